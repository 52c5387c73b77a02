/**
 * A descriptor for reactor tests: it records what the reactor does to it (reads, writes,
 * the reasons it was lost), and what its `doRead` and `doWrite` do is up to each test.
 *
 * @example
 * ```ts
 * import { Probe } from "./probe.ts";
 * import { Socket } from "../../lib/socket/mod.ts";
 * const probe = new Probe(new Socket(), "reader");
 * probe.onRead = () => undefined;
 * ```
 * @module
 */

import type { IReadDescriptor, IWriteDescriptor } from "../../lib/reactor/interfaces.ts";
import { type Socket, WouldBlock } from "../../lib/socket/mod.ts";
import { CONNECTION_DONE } from "../../lib/reactor/main.ts";

/** A descriptor that records what the reactor does to it. */
export class Probe implements IReadDescriptor, IWriteDescriptor {
  reads = 0;
  writes = 0;
  readonly lost: Error[] = [];
  /** While true, `fileno()` answers -1 whatever the socket says. */
  forgetful = false;
  onRead: () => Error | void = () => {};
  onWrite: () => Error | void = () => {};
  onLost: (reason: Error) => void = () => {};

  constructor(readonly socket: Socket, readonly name = "Probe") {}

  fileno(): number {
    return this.forgetful ? -1 : this.socket.fileno();
  }

  doRead(): Error | void {
    this.reads++;
    return this.onRead();
  }

  doWrite(): Error | void {
    this.writes++;
    return this.onWrite();
  }

  connectionLost(reason: Error): void {
    this.lost.push(reason);
    this.onLost(reason);
  }

  logPrefix(): string {
    return this.name;
  }
}

/**
 * Reads all a non-blocking socket holds now into `into`; returns `CONNECTION_DONE` at the
 * end of the stream, as a `doRead` would.
 */
export function drain(socket: Socket, into: Uint8Array[]): Error | void {
  for (;;) {
    let bytes: Uint8Array;
    try {
      bytes = socket.recv(65536);
    } catch (error) {
      if (error instanceof WouldBlock) return;
      throw error;
    }
    if (bytes.length === 0) return CONNECTION_DONE;
    into.push(bytes);
  }
}
