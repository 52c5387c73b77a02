#!/usr/bin/env -S deno run -N -R
/**
 * The broken reactor client of Part 4. It is `get-poetry.ts` with two changes, the two
 * methods below: its socket stays blocking, and `doRead` reads until the whole poem has
 * arrived. Each `recv` then waits for the slow server, and while it waits the reactor
 * cannot run anything else: no other socket is read, no timer fires. A nominally
 * asynchronous program, turned back into a blocking one.
 *
 * @module
 */

import { CONNECTION_DONE, CONNECTION_LOST } from "../lib/reactor/main.ts";
import { formatAddress } from "../lib/address.ts";
import { main, PoetrySocket } from "./get-poetry.ts";

/** A PoetrySocket that blocks. */
export class BrokenPoetrySocket extends PoetrySocket {
  /** Change 1: connect, and do not bother to make the socket non-blocking. */
  protected override connect(): void {
    this.socket.connect(this.address);
  }

  /** Change 2: keep reading (and blocking) until the server closes. */
  override doRead(): Error | void {
    for (;;) {
      let bytes: Uint8Array;
      try {
        bytes = this.socket.recv(65536); // blocks: the whole program waits here
      } catch (error) {
        this.failure = error as Error;
        return CONNECTION_LOST;
      }
      if (bytes.length === 0) break;
      this.poem.add(bytes);
    }
    console.log(
      `Task ${this.taskNumber}: got ${this.poem.bytes} bytes of poetry from ${
        formatAddress(this.address)
      }`,
    );
    return CONNECTION_DONE;
  }
}

if (import.meta.main) {
  // The same program as get-poetry.ts (its `main`: make the sockets, run the reactor,
  // report), with the broken sockets.
  await main(
    BrokenPoetrySocket,
    `
Downloads a poem from each server given, on a reactor, but with blocking reads
inside doRead: each poem is read whole, and nothing else runs meanwhile. HOST
defaults to 127.0.0.1. With the three slow poetry servers of Part 2 running on
ports 10000, 10001 and 10002:

  deno run -N -R twisted-client/get-poetry-broken.ts 10000 10001 10002

While doRead blocks, Ctrl-C cannot stop it (the reactor handles Ctrl-C, and the
reactor is not running); Ctrl-\\ (SIGQUIT) ends it anyway.`,
  );
}
