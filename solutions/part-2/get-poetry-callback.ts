#!/usr/bin/env -S deno run -N -R
/**
 * Part 2, exercises 2 and 3, first answer: `getPoetry(address, callback)`. It cannot hand
 * the poem back as its return value without waiting for it, so it hands it to a callback
 * later. It only starts the download: it connects, registers a reader with the reactor,
 * and returns at once. The reactor calls the reader whenever bytes arrive, and the
 * reader calls `callback(null, poem)` once the server has closed the connection, or
 * `callback(error, poem)`, with what came before the failure, if the download fails.
 * The poem is a `PoemText`: its text, and its size in bytes as they arrived and in
 * characters. Many downloads run at the same time
 * because no call ever waits.
 *
 * @example
 * ```ts
 * import { reactor } from "../../lib/reactor/mod.ts";
 * import { getPoetry } from "./get-poetry-callback.ts";
 *
 * getPoetry(["127.0.0.1", 10000], (error, poem) => {
 *   console.log(error ?? poem.text);
 *   reactor.stop();
 * });
 * await reactor.run();
 * ```
 *
 * @module
 */

import { endOnMissingPermission } from "../../lib/cli.ts";
import { expectServerAddresses, formatAddress } from "../../lib/address.ts";
import { formatDuration, startStopwatch } from "../../lib/duration.ts";
import { PoemText } from "../../lib/poem.ts";
import { reactor } from "../../lib/reactor/mod.ts";
import { CONNECTION_DONE, CONNECTION_LOST } from "../../lib/reactor/main.ts";
import type { IReadDescriptor } from "../../lib/reactor/interfaces.ts";
import { type Address, Socket, SocketError, WouldBlock } from "../../lib/socket/mod.ts";

/**
 * Called once per download: with no error and the whole poem, or with what went wrong
 * and the part of the poem that came before.
 *
 * @example
 * ```ts
 * import type { PoemCallback } from "./get-poetry-callback.ts";
 * const report: PoemCallback = (error, poem) => console.log(error?.message ?? poem.bytes);
 * ```
 */
export type PoemCallback = (error: Error | null, poem: PoemText) => void;

/** Reads one poem as the reactor reports bytes to read, then calls back. */
class PoemReader implements IReadDescriptor {
  readonly #poem = new PoemText();
  #failure: Error | null = null;

  constructor(readonly socket: Socket, readonly callback: PoemCallback) {}

  fileno(): number {
    return this.socket.fileno();
  }

  doRead(): Error | void {
    for (;;) {
      let bytes: Uint8Array;
      try {
        bytes = this.socket.recv(65536);
      } catch (error) {
        if (error instanceof WouldBlock) return; // all read for now; wait for the next call
        this.#failure = error as Error;
        return CONNECTION_LOST;
      }
      if (bytes.length === 0) return CONNECTION_DONE; // the poem is complete
      this.#poem.add(bytes);
    }
  }

  connectionLost(reason: Error): void {
    this.socket.close();
    this.#poem.end();
    this.callback(reason === CONNECTION_DONE ? null : this.#failure ?? reason, this.#poem);
  }

  logPrefix(): string {
    return "poem";
  }
}

/**
 * Starts downloading the poem at `address` on the reactor and returns at once;
 * `callback` gets the poem (or the error) when the download ends, always from the
 * reactor's loop, never before `getPoetry` has returned.
 *
 * @example
 * ```ts
 * import { getPoetry } from "./get-poetry-callback.ts";
 * getPoetry(["127.0.0.1", 10000], (error, poem) => console.log(error ?? poem.text));
 * // returns at once; the callback runs once the reactor runs and the poem is in
 * ```
 *
 * @param address the server
 * @param callback called once, when the poem is complete or the download failed
 */
export function getPoetry(address: Address, callback: PoemCallback): void {
  const socket = new Socket();
  try {
    socket.connect(address); // blocks, but only until the server accepts
  } catch (error) {
    socket.close();
    if (!(error instanceof SocketError)) throw error; // a missing -N, say: not the server's fault
    reactor.callLater(0, callback, error, new PoemText());
    return;
  }
  socket.setBlocking(false);
  reactor.addReader(new PoemReader(socket, callback));
}

/**
 * Describes a poem that has arrived, by its size: the bytes that came over the
 * connection (not the text encoded again, which differs wherever the bytes were not
 * valid UTF-8) and the characters decoded from them.
 *
 * @example
 * ```ts
 * import { PoemText } from "../../lib/poem.ts";
 * import { describePoem } from "./get-poetry-callback.ts";
 *
 * const poem = new PoemText();
 * poem.add(new TextEncoder().encode("così"));
 * poem.end();
 * describePoem(poem); // "a poem of 5 bytes (4 characters)"
 * ```
 *
 * @param poem the poem, ended
 * @returns `a poem of B bytes (C characters)`
 */
export function describePoem(poem: PoemText): string {
  return `a poem of ${poem.bytes} bytes (${poem.characters} characters)`;
}

if (import.meta.main) {
  endOnMissingPermission(); // a missing -N or -R: one line, not a stack trace
  const addresses = expectServerAddresses(`
Downloads a poem from each server given, all at once, with getPoetry(address,
callback) on the reactor, and prints each poem's size as its callback gets it.
HOST defaults to 127.0.0.1. With the three slow poetry servers of Part 2 on
ports 10000, 10001 and 10002:

  deno run -N -R solutions/part-2/get-poetry-callback.ts 10000 10001 10002`);

  const elapsed = startStopwatch();
  let waiting = addresses.length;
  let received = 0;
  for (const [index, address] of addresses.entries()) {
    getPoetry(address, (error, poem) => {
      const task = `Task ${index + 1}`;
      if (error) {
        console.log(
          `${task}: failed to get poetry from ${formatAddress(address)}: ${error.message}`,
        );
      } else {
        console.log(`${task}: got ${describePoem(poem)} from ${formatAddress(address)}`);
        received += 1;
      }
      waiting -= 1;
      // Not while it is stopping already (Ctrl-C): its shutdown ends the downloads too.
      if (waiting === 0 && reactor.running) reactor.stop();
    });
  }
  console.log(`Started ${addresses.length} downloads; getPoetry has returned each time.`);
  await reactor.run();
  console.log(`Got ${received} poems in ${formatDuration(elapsed())}`);
}
