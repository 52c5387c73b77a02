#!/usr/bin/env -S deno run -N -R
/**
 * The first reactor poetry client of Part 4. It does what the asynchronous client of
 * Part 2 does, but has no loop of its own: each download is a `PoetrySocket`, an object
 * that provides `IReadDescriptor`, and the reactor calls its `doRead` whenever its socket
 * has something to read.
 *
 * The other Part 4 client, `get-poetry-broken.ts`, and the solutions of the part's
 * exercises build on the `PoetrySocket` class exported here. The command line
 * (`[--reactor select|poll] [HOST:]PORT ...`) and installing the reactor chosen are in
 * `lib/poetry_client.ts`; the program itself is `main`, at the end of this file.
 *
 * @module
 */

import { endOnMissingPermission } from "../lib/cli.ts";
import { formatAddress } from "../lib/address.ts";
import { formatDuration, startStopwatch } from "../lib/duration.ts";
import {
  endIfUnreachable,
  installNamedReactor,
  parsePoetryArgs,
  type PoetryReactor,
} from "../lib/poetry_client.ts";
import { CONNECTION_DONE, CONNECTION_LOST } from "../lib/reactor/main.ts";
import type { IReadDescriptor } from "../lib/reactor/interfaces.ts";
import { type Address, Socket, WouldBlock } from "../lib/socket/mod.ts";
import { PoemText } from "../lib/poem.ts";

/**
 * One download. It provides `IReadDescriptor` (so also `IFileDescriptor` and
 * `ILoggingContext`): the reactor only ever calls `fileno`, `doRead`, `connectionLost`
 * and `logPrefix`. TypeScript checks that it has them: duck typing, checked.
 */
export class PoetrySocket implements IReadDescriptor {
  /** The poem so far, decoded as one UTF-8 stream. */
  readonly poem: PoemText = new PoemText();
  /** Why the connection did not end cleanly (a read failed, or it was cut short); null if it did. */
  failure: Error | null = null;
  protected readonly socket: Socket = new Socket();

  constructor(
    readonly taskNumber: number,
    readonly address: Address,
    protected readonly reactor: PoetryReactor,
  ) {
    try {
      this.connect();
    } catch (error) {
      this.socket.close(); // an open socket would keep the program alive
      throw error;
    }
    reactor.addReader(this); // tell the reactor to watch this socket for reading
  }

  /** Connects (this blocks, but only until the server accepts) and goes non-blocking. */
  protected connect(): void {
    this.socket.connect(this.address);
    this.socket.setBlocking(false); // from now on, recv never waits
  }

  fileno(): number {
    return this.socket.fileno(); // -1 once closed: the reactor then drops us
  }

  /** The socket has something for us: read all there is now, without waiting for more. */
  doRead(): Error | void {
    const received = this.readAvailable();
    if (received instanceof Error) return received;
    if (received === 0) {
      console.log(`Task ${this.taskNumber} finished`);
      return CONNECTION_DONE; // the reactor removes us and calls connectionLost
    }
    console.log(
      `Task ${this.taskNumber}: got ${received} bytes of poetry from ${
        formatAddress(this.address)
      }`,
    );
  }

  /**
   * Reads until the socket would block, adding to the poem. Returns how many bytes that
   * was (0: the server has closed, the poem is complete), or `CONNECTION_LOST`.
   */
  protected readAvailable(): number | Error {
    let received = 0;
    for (;;) {
      let bytes: Uint8Array;
      try {
        bytes = this.socket.recv(65536);
      } catch (error) {
        if (error instanceof WouldBlock) return received; // nothing more for now
        this.failure = error as Error;
        return CONNECTION_LOST;
      }
      if (bytes.length === 0) return received; // the server closed its end
      this.poem.add(bytes);
      received += bytes.length;
    }
  }

  /** The connection is over: close, stop being watched, and stop the reactor if we were last. */
  connectionLost(reason: Error): void {
    this.poem.end();
    this.socket.close();
    this.reactor.removeReader(this);
    if (reason !== CONNECTION_DONE) {
      this.failure ??= reason; // cut short (a Ctrl-C, say): not a whole poem
      console.log(
        `Task ${this.taskNumber}: lost after ${this.poem.bytes} bytes: ${this.failure.message}`,
      );
    }
    const poetryLeft = this.reactor.getReaders().some((reader) => reader instanceof PoetrySocket);
    // No more poetry: stop, unless the reactor is stopping already (after a Ctrl-C, it
    // tells every descriptor still registered that its connection was lost).
    if (!poetryLeft && this.reactor.running) this.reactor.stop();
  }

  logPrefix(): string {
    return "poetry";
  }
}

/**
 * The program, shaped like the article's: read the command line, start the clock, make one
 * `PoetrySocket` per server, run the reactor until the last one stops it, then report.
 * `get-poetry-broken.ts` runs it with its own download class.
 *
 * @example
 * ```ts ignore
 * import { main, PoetrySocket } from "./get-poetry.ts";
 * await main(PoetrySocket, "Fetches a poem from each server.");
 * ```
 *
 * @param Download `PoetrySocket`, or a subclass
 * @param help the text of `--help`
 */
export async function main(Download: typeof PoetrySocket, help: string): Promise<void> {
  endOnMissingPermission(); // a missing -N or -R: one line, not a stack trace
  const { addresses, reactorName } = parsePoetryArgs(Deno.args, help);
  const reactor = await installNamedReactor(reactorName); // install first, then import
  const elapsed = startStopwatch();
  const sockets = addresses.map((address, index) => {
    try {
      return new Download(index + 1, address, reactor);
    } catch (error) {
      // A refused connection ends the program here (exercise 4.1 changes that).
      endIfUnreachable(address, error);
    }
  });
  await reactor.run(); // the reactor is in control until the last PoetrySocket stops it
  const seconds = elapsed();
  for (const socket of sockets) {
    console.log(`Task ${socket.taskNumber}: ${socket.poem.characters} characters of poetry`);
  }
  console.log(`Got ${addresses.length} poems in ${formatDuration(seconds)}`);
}

if (import.meta.main) {
  await main(
    PoetrySocket,
    `
Downloads a poem from each server given, all at once, on a reactor: each download
is a PoetrySocket that the reactor calls back when its socket has bytes to read.
HOST defaults to 127.0.0.1. With the three slow poetry servers of Part 2 running on
ports 10000, 10001 and 10002 (deno task servers starts them):

  deno run -N -R twisted-client/get-poetry.ts 10000 10001 10002
  deno run -N -R twisted-client/get-poetry.ts --reactor poll 10000 10001 10002`,
  );
}
