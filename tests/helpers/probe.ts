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
import type { Socket } from "../../lib/socket/mod.ts";

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
