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

import { DelayedCall, DelayedCallQueue, newTraceId, runningAs, TRACE_NAME } from "./delayed.ts";
import type { TracedCall } from "./delayed.ts";
import { nowUs, tracing } from "../trace/mod.ts";
import { functionName, schedulingSite } from "../trace/names.ts";
import { installedOrDefaultReactor } from "./default.ts";
import { callPlainly, isThenable, tracedCall } from "./events.ts";
import type { IDelayedCall, ILoopingCall, IReactorTime } from "./interfaces.ts";

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

  /**
   * The clock's time: it moves only with `advance`.
   *
   * @returns the clock's time, 0 at creation
   */
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

  /**
   * The delayed calls still to come.
   *
   * @returns the calls not yet run or cancelled
   */
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
export class LoopingCall<Args extends unknown[] = []> implements ILoopingCall {
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
  /** Whether `start` called `f` at once (its `now` argument). */
  #ranAtStart = false;
  /** For a loop made by {@linkcode LoopingCall.withCount}: the clock's time when `f` last ran. */
  #lastRunTime: number | undefined;
  #settle:
    | { resolve: (loop: LoopingCall<Args>) => void; reject: (error: unknown) => void }
    | undefined;
  /** The function each scheduled call runs; named for the trace while tracing. */
  readonly #tick = (): void => this.#callNow();
  /** The trace's id and label of this loop, while tracing. */
  #traced: Omit<TracedCall, "id"> | undefined;

  /**
   * Makes the looping call; `start` starts it.
   *
   * @param f the function to call each time
   * @param args its arguments
   */
  constructor(f: (...args: Args) => unknown, ...args: Args) {
    this.f = f;
    this.args = args;
    if (tracing) this.#nameForTrace(schedulingSite());
  }

  /** Give this loop an id and a label, and its tick the name the trace shows. */
  #nameForTrace(site: string | undefined): Omit<TracedCall, "id"> {
    if (this.#traced === undefined) {
      const label = `LoopingCall of ${functionName(this.f) || site || "anonymous"}`;
      this.#traced = { label, kind: "loopingCall", loop: newTraceId(), from: site };
      (this.#tick as { [TRACE_NAME]?: Omit<TracedCall, "id"> })[TRACE_NAME] = this.#traced;
    }
    return this.#traced;
  }

  /**
   * A LoopingCall that calls `countCallable(count)`, where `count` is how
   * many intervals have passed since it last ran: 1 when on time, more when
   * the program was too busy and intervals were skipped, so that it can tell
   * it fell behind (and, say, move an animation by `count` frames). The first
   * call counts 1. With an interval of 0 every call counts 1.
   *
   * @example
   * ```ts
   * import { Clock, LoopingCall } from "./task.ts";
   *
   * const clock = new Clock();
   * const counts: number[] = [];
   * const loop = LoopingCall.withCount((count) => counts.push(count));
   * loop.clock = clock;
   * loop.start(1); // counts: [1]
   * clock.advance(1); // on time: [1, 1]
   * clock.advance(3); // two intervals skipped: [1, 1, 3]
   * loop.stop();
   * ```
   *
   * @param countCallable called with the number of intervals since its last call
   * @returns the LoopingCall, not started
   */
  static withCount(countCallable: (count: number) => unknown): LoopingCall<[]> {
    const loop: LoopingCall<[]> = new LoopingCall(() => {
      const now = loop.clock.seconds();
      const interval = loop.interval ?? 0;
      if (interval === 0) {
        loop.#lastRunTime = now;
        return countCallable(1);
      }
      const startTime = loop.startTime ?? now;
      let lastTime = loop.#lastRunTime;
      if (lastTime === undefined) {
        // Not run yet: count from the start, or from one interval before it when the
        // first call was made at once, so the first call always counts 1.
        lastTime = loop.#ranAtStart ? startTime - interval : startTime;
      }
      const intervalsAt = (time: number) => Math.trunc((time - startTime) / interval);
      const count = intervalsAt(now) - intervalsAt(lastTime);
      if (count > 0) {
        loop.#lastRunTime = now;
        return countCallable(count);
      }
    });
    return loop;
  }

  /**
   * What schedules the calls: the installed reactor (installing the default,
   * as importing `mod.ts` would, if none is), unless set to another, such as
   * a {@linkcode Clock}.
   */
  get clock(): IReactorTime {
    this.#clock ??= installedOrDefaultReactor();
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
    this.#ranAtStart = now;
    this.startTime = this.clock.seconds();
    if (now) {
      if (tracing && !(this.clock instanceof Clock)) this.#tracedFirstCall();
      else this.#callNow();
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

  /**
   * Skip the call now awaited and start the interval again from now: the
   * next call comes one whole interval later, and the grid of later calls
   * starts from now too. If `f`'s promise is pending, nothing changes.
   *
   * @example
   * ```ts
   * import { Clock, LoopingCall } from "./task.ts";
   *
   * const clock = new Clock();
   * let calls = 0;
   * const loop = new LoopingCall(() => calls++);
   * loop.clock = clock;
   * loop.start(2, false);
   * clock.advance(1);
   * loop.reset(); // due at 3 now, not at 2
   * clock.advance(1.5);
   * console.log(calls); // 0
   * clock.advance(0.5);
   * console.log(calls); // 1
   * loop.stop();
   * ```
   *
   * @throws {Error} if not running
   */
  reset(): void {
    if (!this.running) throw new Error("Tried to reset a LoopingCall that was not running.");
    if (this.#call === undefined) return;
    this.#call.cancel();
    this.#call = undefined;
    this.startTime = this.clock.seconds();
    this.#scheduleFrom(this.startTime);
  }

  /** The call `start` makes at once, recorded as the loop's first tick. */
  #tracedFirstCall(): void {
    const traced = this.#nameForTrace(undefined);
    const loop = traced.loop ?? 0;
    const args = { kind: "loopingCall", loop };
    tracedCall(traced.label, nowUs(), args, () => runningAs(loop, () => this.#callNow()));
  }

  #callNow(): void {
    this.#call = undefined;
    let result: unknown;
    try {
      result = callPlainly(this.f, this.args);
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
    if (tracing) this.#nameForTrace(undefined);
    this.#call = this.clock.callLater(delay, this.#tick);
  }
}
