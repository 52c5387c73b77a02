/**
 * The worker's side of running out of descriptors (EMFILE). Deno frees a closed
 * connection's descriptor only once its cancelled read has settled, and a listener's
 * once its pending accept has: a moment after `close()`, where close(2) frees it at
 * once (thousands of closes take a noticeable while, bench/RESULTS.md). So a call that
 * fails for want of descriptors while closes are still settling tries again as they
 * settle ({@linkcode withDescriptorsSettled}); and a listener that found none marks its
 * header (`HEADER.NO_DESCRIPTOR`, so that `accept` fails with EMFILE) and tries again
 * when the main thread next closes a socket ({@linkcode descriptorFreed}).
 *
 * @example
 * ```ts ignore
 * import { withDescriptorsSettled } from "./descriptor_shortage.ts";
 * const conn = await withDescriptorsSettled(() => Deno.connect({ port: 10000 }));
 * ```
 * @module
 */

import { codeOfDenoError, SocketError } from "./errors.ts";
import { HEADER } from "./header.ts";

/** The errors that say the process has no descriptor left. */
const OUT_OF_DESCRIPTORS = new Set(["EMFILE", "ENFILE"]);

/**
 * Whether an error code says the process has no descriptor left.
 *
 * @example
 * ```ts ignore
 * if (isOutOfDescriptors(codeOfDenoError(error))) markOutOfDescriptors(header, "EMFILE");
 * ```
 */
export function isOutOfDescriptors(code: string): boolean {
  return OUT_OF_DESCRIPTORS.has(code);
}

/** Loops waiting for news, woken all at once; each waits a while at most. */
class Waiters {
  #waiting: Array<() => void> = [];

  /** Settles at the next {@linkcode Waiters.wakeAll}, or after `ms`, whichever comes first. */
  next(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#waiting.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Wakes every loop waiting now. */
  wakeAll(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const wake of waiting) wake();
  }
}

// ---------------------------------------------------------------------------
// Closes still settling.

/** Closed sockets whose descriptor Deno has not freed yet. */
let closesSettling = 0;
/** How many closes have settled so far. */
let closesSettled = 0;
/** Calls waiting for the next close to settle. */
const settleWaiters = new Waiters();

/**
 * Counts a close as settling until `ended` (its cancelled read, its pending accept)
 * settles.
 *
 * @example
 * ```ts ignore
 * settleLater(socket.receiving);
 * ```
 */
export function settleLater(ended: Promise<void>): void {
  closesSettling++;
  ended.then(() => {
    closesSettling--;
    closesSettled++;
    settleWaiters.wakeAll();
  });
}

/** How long a call short of descriptors may wait for closes to settle, in ms. */
const SETTLE_DEADLINE_MS = 5000;

/**
 * Runs `attempt`, and again each time a close settles, for as long as it fails for
 * want of descriptors while closes are still settling, up to
 * {@linkcode SETTLE_DEADLINE_MS}. With no close settling, a lack of descriptors is
 * real, and the error goes to the caller at once.
 *
 * @example
 * ```ts ignore
 * const listener = await withDescriptorsSettled(() => Deno.listen({ port: 0 }));
 * ```
 */
export async function withDescriptorsSettled<T>(attempt: () => T | Promise<T>): Promise<T> {
  const deadline = performance.now() + SETTLE_DEADLINE_MS;
  for (;;) {
    const settledBefore = closesSettled;
    try {
      return await attempt();
    } catch (error) {
      if (!isOutOfDescriptors(codeOfDenoError(error))) throw error;
      const left = deadline - performance.now();
      if (left <= 0) throw error;
      // A close that settled while the attempt ran may have freed a descriptor already.
      if (closesSettled !== settledBefore) continue;
      if (closesSettling === 0) throw error;
      await settleWaiters.next(left); // until a close settles
    }
  }
}

// ---------------------------------------------------------------------------
// Listeners out of descriptors.

/** How long an accept loop out of descriptors waits at most before it tries again. */
const ACCEPT_RETRY_MS = 100;
/** Accept loops waiting for a descriptor to be freed. */
const closeWaiters = new Waiters();
/** Headers of listeners whose last accept found no descriptor (`NO_DESCRIPTOR` set). */
const outOfDescriptors = new Set<Int32Array>();

/**
 * Marks a listener's header as out of descriptors (`accept` then fails with `code`,
 * EMFILE say, while the connection waits in the kernel's queue), until
 * {@linkcode descriptorFreed}.
 *
 * @example
 * ```ts ignore
 * markOutOfDescriptors(socket.header, "EMFILE");
 * ```
 */
export function markOutOfDescriptors(header: Int32Array, code: string): void {
  Atomics.store(header, HEADER.NO_DESCRIPTOR, new SocketError(code).errno);
  outOfDescriptors.add(header);
}

/**
 * Settles when a descriptor may be free again: when the main thread next closes a
 * socket, or after a while at most.
 *
 * @example
 * ```ts ignore
 * await untilADescriptorMayBeFree(); // then the accept loop tries again
 * ```
 */
export function untilADescriptorMayBeFree(): Promise<void> {
  return closeWaiters.next(ACCEPT_RETRY_MS);
}

/**
 * Says that the main thread is closing a socket: a descriptor is about to be free, and
 * the next accept may well get it. Clears the listeners' marks and wakes their loops.
 *
 * @example
 * ```ts ignore
 * descriptorFreed(); // first thing in closing a socket
 * ```
 */
export function descriptorFreed(): void {
  for (const header of outOfDescriptors) Atomics.store(header, HEADER.NO_DESCRIPTOR, 0);
  outOfDescriptors.clear();
  closeWaiters.wakeAll();
}
