/**
 * The waits: the event counter, the main thread's blocking and async waits on it, and
 * the worker's stay-awake.
 *
 * The worker bumps the counter and notifies after every change a waiter could care
 * about ({@linkcode announceEvent}). A waiter reads the counter, checks its condition,
 * and only then waits on the counter's old value, so no change is missed between the
 * check and the wait.
 *
 * Stay-awake: after news the main thread is likely to answer at once, the worker
 * watches the queues of senders and requests for a moment instead of sleeping
 * (`WORKER_WATCHING`), so the main thread need not notify it; and it stops as soon as
 * the main thread waits for news it has not given yet (`MAIN_WAITING`, `MAIN_SEEN`),
 * since only its event loop brings news. (What these save is in bench/RESULTS.md.)
 *
 * @example
 * ```ts ignore
 * import { currentEvent, waitForEvent } from "./waits.ts";
 * for (;;) {
 *   const seen = currentEvent();
 *   if (ready()) break;
 *   waitForEvent(seen); // returns once the counter has moved past `seen`
 * }
 * ```
 * @module
 */

import { control, REGION } from "./control.ts";
import { checkKernel } from "./link.ts";

/** The waits' cells in the control block. */
export const WAITS = {
  /** The event counter. */
  EVENTS: REGION.waits,
  /** Set while the main thread waits for the worker's news. */
  MAIN_WAITING: REGION.waits + 1,
  /**
   * The event count the main thread waits to see move, while it waits: if it is the
   * current count, the main thread waits for news not given yet.
   */
  MAIN_SEEN: REGION.waits + 2,
  /**
   * Set while the worker stays awake watching the queues of senders and of requests:
   * what is queued meanwhile needs no notify.
   */
  WORKER_WATCHING: REGION.waits + 3,
} as const;

/**
 * Either thread: bumps the event counter and wakes every waiter.
 *
 * @example
 * ```ts ignore
 * announceEvent(); // after the worker changed a socket
 * ```
 */
export function announceEvent(): void {
  Atomics.add(control, WAITS.EVENTS, 1);
  Atomics.notify(control, WAITS.EVENTS);
}

/**
 * The event counter's current value: read it before checking a condition.
 *
 * @example
 * ```ts ignore
 * const seen = currentEvent();
 * ```
 */
export function currentEvent(): number {
  return Atomics.load(control, WAITS.EVENTS);
}

/**
 * How long a blocking wait watches the event counter before it sleeps, in ms. The worker
 * often answers within a moment (a connect, the next bytes), and waking a sleeping thread
 * costs about as much again (bench/RESULTS.md): a short, bounded spin saves that, and
 * costs an idle program nothing worth measuring.
 */
const SPIN_MS = 0.05;

/**
 * How long a wait for the worker's own answer (a bind, a connect, a close of a
 * listener) watches the counter before it sleeps, in ms: these answers come almost
 * always, a little later than bytes do.
 */
export const ANSWER_SPIN_MS = 0.25;

/** Says that this thread waits for the event counter to move past `seen`. */
function markMainWaiting(seen: number): void {
  Atomics.store(control, WAITS.MAIN_SEEN, seen);
  Atomics.store(control, WAITS.MAIN_WAITING, 1);
}

/**
 * Main thread: blocks until the event counter moves past `seen`, or the timeout passes,
 * watching it for `spinMs` before it sleeps. Fails if the worker has died.
 *
 * @example
 * ```ts ignore
 * waitForEvent(currentEvent(), 100); // at most 100 ms
 * ```
 */
export function waitForEvent(seen: number, timeoutMs?: number, spinMs: number = SPIN_MS): void {
  checkKernel();
  markMainWaiting(seen);
  try {
    const spinUntil = performance.now() + Math.min(spinMs, timeoutMs ?? spinMs);
    do {
      for (let i = 0; i < 64; i++) {
        if (Atomics.load(control, WAITS.EVENTS) !== seen) return checkKernel();
      }
    } while (performance.now() < spinUntil);
    const left = timeoutMs === undefined ? Infinity : timeoutMs - spinMs;
    if (left > 0) Atomics.wait(control, WAITS.EVENTS, seen, left);
  } finally {
    Atomics.store(control, WAITS.MAIN_WAITING, 0);
  }
  checkKernel();
}

/**
 * Main thread: waits without blocking the thread until the event counter moves past
 * `seen`, or the timeout passes.
 *
 * An `Atomics.waitAsync` wakes when notified, but Deno neither counts it as something
 * that keeps the program alive nor times its own timeout closely. So the wait has no
 * timeout of its own: a timer notifies it when the time is up, and a second timer keeps
 * the program alive until the waiter has been resolved (by an event or by that notify),
 * so no waiter is ever left behind.
 *
 * @example
 * ```ts ignore
 * await waitForEventAsync(currentEvent(), 100);
 * ```
 */
export async function waitForEventAsync(seen: number, timeoutMs?: number): Promise<void> {
  checkKernel();
  const result = Atomics.waitAsync(control, WAITS.EVENTS, seen);
  if (!result.async) return checkKernel();
  markMainWaiting(seen);
  const keepAlive = setTimeout(() => {}, 2 ** 31 - 1);
  const timer = timeoutMs === undefined
    ? undefined
    : setTimeout(() => Atomics.notify(control, WAITS.EVENTS), Math.max(0, timeoutMs));
  try {
    await result.value;
  } finally {
    clearTimeout(timer);
    clearTimeout(keepAlive);
    Atomics.store(control, WAITS.MAIN_WAITING, 0);
  }
  checkKernel();
}

/** How many times `wakeUp` was called: an async wait returns when this changes. */
let wakeUps = 0;

/**
 * Makes every wait on the event counter return now: an async `select` or `poll` in
 * progress, say, when a reactor has been given something new to do.
 *
 * @example
 * ```ts
 * import { wakeUp } from "./waits.ts";
 * wakeUp(); // a reactor calls this when a timer is added from outside its loop
 * ```
 */
export function wakeUp(): void {
  wakeUps++;
  announceEvent();
}

/**
 * The count of `wakeUp` calls so far; an async wait ends once it moves.
 *
 * @example
 * ```ts ignore
 * const before = wakeUpCount();
 * ```
 */
export function wakeUpCount(): number {
  return wakeUps;
}

/**
 * Main thread: whether the worker is watching the queues right now (then what is
 * queued needs no notify).
 *
 * @example
 * ```ts ignore
 * if (!workerWatching()) Atomics.notify(control, SENDERS.write);
 * ```
 */
export function workerWatching(): boolean {
  return Atomics.load(control, WAITS.WORKER_WATCHING) !== 0;
}

/**
 * Worker: whether the main thread waits (blocking or not) at all.
 *
 * @example
 * ```ts ignore
 * if (mainWaiting()) stayAwake(0.03, look);
 * ```
 */
export function mainWaiting(): boolean {
  return Atomics.load(control, WAITS.MAIN_WAITING) === 1;
}

/** Whether the main thread waits for news this thread has not given yet. */
function mainWaitsForNews(): boolean {
  return mainWaiting() &&
    Atomics.load(control, WAITS.MAIN_SEEN) === Atomics.load(control, WAITS.EVENTS);
}

/**
 * Worker: stays awake up to `ms`, calling `look` (which takes what the main thread
 * queued, and says `true` to stop: it took something that needs the event loop); stops
 * too when the main thread waits for news, which only the event loop brings, or when
 * the time is up. Then `settle` takes what came while the flag was up, without a
 * notify.
 *
 * @example
 * ```ts ignore
 * stayAwake(0.05, () => takeQueued(), () => takeQueued());
 * ```
 */
export function stayAwake(ms: number, look: () => boolean, settle: () => void): void {
  const until = performance.now() + ms;
  Atomics.store(control, WAITS.WORKER_WATCHING, 1);
  try {
    do {
      for (let i = 0; i < 64; i++) {
        if (look() || mainWaitsForNews()) return;
      }
    } while (performance.now() < until);
  } finally {
    Atomics.store(control, WAITS.WORKER_WATCHING, 0);
    settle();
  }
}
