/**
 * The select reactor, the default one, like `twisted.internet.selectreactor`:
 * each turn it hands every watched descriptor to the socket layer's
 * `selectAsync`, so a turn costs time in proportion to the descriptors
 * watched, ready or not.
 *
 * @example
 * ```ts
 * import { install } from "./select.ts";
 *
 * const reactor = install(); // before anything imports mod.ts
 * reactor.callWhenRunning(() => reactor.stop());
 * await reactor.run();
 * ```
 *
 * @module
 */

import { BadDescriptor, select, selectAsync } from "../socket/mod.ts";
import { installReactor, ReactorBase } from "./base.ts";
import { ConnectionFdescWentAway } from "./error.ts";
import type { IFileDescriptor } from "./interfaces.ts";
import { tracing } from "../trace/mod.ts";

/**
 * A reactor that waits with `select`.
 *
 * @example
 * ```ts
 * import { SelectReactor } from "./select.ts";
 *
 * const reactor = new SelectReactor();
 * reactor.callLater(0.05, () => reactor.stop());
 * await reactor.run();
 * ```
 */
export class SelectReactor extends ReactorBase {
  /**
   * Wait with `selectAsync` on all the readers and writers, then call
   * `doRead` on the readable ones and `doWrite` on the writable ones, skipping
   * any that an earlier callback of this turn removed.
   *
   * @param timeout seconds to wait at most, or null for no limit
   */
  protected async doIteration(timeout: number | null): Promise<void> {
    const readers = [...this.readers];
    const writers = [...this.writers];
    let readable: typeof readers;
    let writable: typeof writers;
    if (tracing) this.traceWaitBegin(timeout);
    try {
      [readable, writable] = await this.waitFor(
        selectAsync<IFileDescriptor>(readers, writers, [], timeout ?? undefined),
      ) as [typeof readers, typeof writers, IFileDescriptor[]];
    } catch (error) {
      if (tracing) this.traceWaitEnd([], []);
      if (!(error instanceof BadDescriptor)) throw error;
      this.#dropBadDescriptors();
      return;
    }
    if (tracing) this.traceWaitEnd(readable, writable);
    for (const reader of readable) {
      if (this.readers.has(reader)) this.readOrWrite(reader, true);
    }
    for (const writer of writable) {
      if (this.writers.has(writer)) this.readOrWrite(writer, false);
    }
  }

  /**
   * Disconnect the descriptors select cannot wait on: those whose `fileno()`
   * is -1, and those whose `fileno()` throws (reported first).
   */
  protected override dropLostDescriptors(): void {
    for (const descriptor of new Set<IFileDescriptor>([...this.readers, ...this.writers])) {
      let fd: number;
      try {
        fd = descriptor.fileno();
      } catch (error) {
        this.loseBrokenDescriptor(descriptor, error);
        continue;
      }
      if (fd === -1) this.disconnect(descriptor, new ConnectionFdescWentAway());
    }
  }

  /** select failed with EBADF: find the culprits one by one, as Twisted's `_preenDescriptors` does. */
  #dropBadDescriptors(): void {
    for (const descriptor of new Set<IFileDescriptor>([...this.readers, ...this.writers])) {
      try {
        select([descriptor], [], [], 0);
      } catch {
        this.disconnect(descriptor, new ConnectionFdescWentAway());
      }
    }
  }
}

/**
 * Install a new select reactor as the program's reactor.
 *
 * @example
 * ```ts
 * import { install } from "./select.ts";
 * const reactor = install();
 * const { reactor: same } = await import("./mod.ts");
 * console.log(same === reactor); // true
 * ```
 *
 * @returns the reactor installed
 * @throws {ReactorAlreadyInstalledError} if a reactor is installed already
 */
export function install(): SelectReactor {
  return installReactor(new SelectReactor());
}
