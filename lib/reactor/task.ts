/**
 * Repeating calls and a fake clock, like `twisted.internet.task`.
 *
 * - {@linkcode LoopingCall} calls a function every so many seconds.
 * - {@linkcode Clock} is a scheduler whose time moves only when told to:
 *   tests give it to code that takes an `IReactorTime`, then `advance` it,
 *   so they are fast and exact.
 *
 * @example
 * ```ts
 * import { Clock, LoopingCall } from "./task.ts";
 *
 * const clock = new Clock();
 * let ticks = 0;
 * const loop = new LoopingCall(() => ticks++);
 * loop.clock = clock;
 * loop.start(1); // calls it now: ticks = 1
 * clock.pump([1, 1, 1]); // ticks = 4
 * loop.stop();
 * ```
 *
 * @module
 */

import { getInstalledReactor } from "./base.ts";
import { DelayedCall, DelayedCallQueue } from "./delayed.ts";
import type { IDelayedCall, IReactorTime } from "./interfaces.ts";
import { install as installSelectReactor } from "./select.ts";

/**
 * A scheduler for tests, providing `IReactorTime`: `callLater` schedules as
 * on the reactor, but time stands still until {@linkcode advance}. Errors
 * from the calls are not caught: they come out of `advance`.
 *
 * @example
 * ```ts
 * import { Clock } from "./task.ts";
 *
 * const clock = new Clock();
 * const order: string[] = [];
 * clock.callLater(2, () => order.push("b"));
 * clock.callLater(1, () => order.push("a"));
 * clock.advance(1.5);
 * console.log(order, clock.seconds()); // ["a"] 1.5
 * ```
 */
export class Clock implements IReactorTime {
  #now = 0;
  readonly #calls = new DelayedCallQueue(() => this.#now);

  /** @returns the clock's time, 0 at creation */
  seconds(): number {
    return this.#now;
  }

  /**
   * Schedule `f(...args)` at `seconds() + delay`.
   *
   * @param delay seconds, 0 or more
   * @param f the function
   * @param args its arguments
   * @returns the call's handle
   */
  callLater<Args extends unknown[]>(
    delay: number,
    f: (...args: Args) => unknown,
    ...args: Args
  ): DelayedCall {
    return this.#calls.schedule(delay, f, args);
  }

  /** @returns the calls not yet run or cancelled */
  getDelayedCalls(): DelayedCall[] {
    return this.#calls.pending();
  }

  /**
   * Move time forward by `amount` seconds and run every call that becomes
   * due, in order, including calls they schedule that are due too.
   *
   * @param amount seconds, 0 or more
   */
  advance(amount: number): void {
    if (typeof amount !== "number" || !(amount >= 0)) {
      throw new RangeError(`advance: expected seconds >= 0, got ${String(amount)}`);
    }
    this.#now += amount;
    for (;;) {
      const call = this.#calls.takeNextDue(this.#now);
      if (call === undefined) break;
      this.#calls.runTaken(call);
    }
  }

  /**
   * Advance by each amount in turn, as if the reactor woke up at each step.
   *
   * @param timings the steps, in seconds
   */
  pump(timings: Iterable<number>): void {
    for (const amount of timings) this.advance(amount);
  }
}

/**
 * Calls `f(...args)` every `interval` seconds, on the installed reactor or
 * on the {@linkcode clock} you set.
 *
 * - `start(interval, now = true)` calls `f` at once (or after one interval
 *   when `now` is false) and returns a promise. The promise resolves with the
 *   LoopingCall when `stop()` is called, and rejects if `f` throws (or its
 *   promise rejects); the calls end either way. Nothing awaits it for you: if
 *   `f` can fail, handle the promise, or the failure is an unhandled rejection.
 * - If `f` returns a promise, the next call waits until it settles.
 * - The calls keep to the grid `start time + k * interval`: when a call runs
 *   late, the next one comes at the next point of the grid, and the missed
 *   points are skipped, not made up.
 *
 * @example
 * ```ts
 * import { reactor } from "./mod.ts";
 * import { LoopingCall } from "./task.ts";
 *
 * let count = 3;
 * const countdown = new LoopingCall(() => {
 *   console.log(count);
 *   if (--count === 0) countdown.stop();
 * });
 * countdown.start(0.1).then(() => reactor.stop());
 * await reactor.run(); // 3, 2, 1
 * ```
 */
export class LoopingCall<Args extends unknown[] = []> {
  /** The function called. */
  readonly f: (...args: Args) => unknown;
  /** Its arguments. */
  readonly args: Args;
  /** Whether the loop is started and not stopped. */
  running = false;
  /** The interval in seconds, once started. */
  interval: number | undefined;
  /** The clock's time when `start` was called. */
  startTime: number | undefined;
  #clock: IReactorTime | undefined;
  #call: IDelayedCall | undefined;
  #settle:
    | { resolve: (loop: LoopingCall<Args>) => void; reject: (error: unknown) => void }
    | undefined;

  /**
   * @param f the function to call each time
   * @param args its arguments
   */
  constructor(f: (...args: Args) => unknown, ...args: Args) {
    this.f = f;
    this.args = args;
  }

  /**
   * What schedules the calls: the installed reactor (installing the default,
   * as importing `mod.ts` would, if none is), unless set to another, such as
   * a {@linkcode Clock}.
   */
  get clock(): IReactorTime {
    this.#clock ??= getInstalledReactor() ?? installSelectReactor();
    return this.#clock;
  }

  set clock(clock: IReactorTime) {
    this.#clock = clock;
  }

  /**
   * Start calling `f` every `interval` seconds.
   *
   * @param interval seconds between calls, 0 or more (0: every reactor turn)
   * @param now call `f` at once (the default), or first after one interval
   * @returns a promise that resolves with this LoopingCall after `stop()`,
   *   or rejects with what `f` threw
   * @throws {Error} if already running
   * @throws {RangeError} if the interval is negative
   */
  start(interval: number, now = true): Promise<LoopingCall<Args>> {
    if (this.running) throw new Error("Tried to start an already running LoopingCall.");
    if (typeof interval !== "number" || !(interval >= 0)) {
      throw new RangeError(`interval must be >= 0, got ${String(interval)}`);
    }
    const { promise, resolve, reject } = Promise.withResolvers<LoopingCall<Args>>();
    this.#settle = { resolve, reject };
    this.running = true;
    this.interval = interval;
    this.startTime = this.clock.seconds();
    if (now) {
      this.#callNow();
    } else {
      this.#scheduleFrom(this.startTime);
    }
    return promise;
  }

  /**
   * Stop calling `f`. The promise from `start` resolves now, or, if `f`'s
   * promise is still pending, when it settles.
   *
   * @throws {Error} if not running
   */
  stop(): void {
    if (!this.running) throw new Error("Tried to stop a LoopingCall that was not running.");
    this.running = false;
    if (this.#call !== undefined) {
      this.#call.cancel();
      this.#call = undefined;
      this.#resolve();
    }
  }

  #callNow(): void {
    this.#call = undefined;
    let result: unknown;
    try {
      result = this.f(...this.args);
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (isThenable(result)) {
      Promise.resolve(result).then(() => this.#succeeded(), (error) => this.#fail(error));
    } else {
      this.#succeeded();
    }
  }

  #succeeded(): void {
    if (this.running) {
      this.#scheduleFrom(this.clock.seconds());
    } else {
      this.#resolve();
    }
  }

  #fail(error: unknown): void {
    this.running = false;
    const settle = this.#settle;
    this.#settle = undefined;
    settle?.reject(error);
  }

  #resolve(): void {
    const settle = this.#settle;
    this.#settle = undefined;
    settle?.resolve(this);
  }

  /** Schedule the next call at the first point of the grid after `when`. */
  #scheduleFrom(when: number): void {
    const interval = this.interval ?? 0;
    const startTime = this.startTime ?? when;
    let delay: number;
    if (interval === 0) {
      delay = 0;
    } else {
      const untilNext = interval - ((when - startTime) % interval);
      // Float rounding can make `untilNext` vanish next to a large `when`.
      delay = when + untilNext === when ? interval : untilNext;
    }
    this.#call = this.clock.callLater(delay, () => this.#callNow());
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === "object" || typeof value === "function") && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}
