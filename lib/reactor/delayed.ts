/**
 * Delayed calls: what `callLater` returns (`DelayedCall`, our `IDelayedCall`), and the
 * queue that keeps them in time order (a binary heap; calls due at the same time run in
 * the order they were scheduled). The reactors and `Clock` share them.
 *
 * @example
 * ```ts
 * import { DelayedCallQueue } from "./delayed.ts";
 * let now = 0;
 * const queue = new DelayedCallQueue(() => now);
 * queue.schedule(2, () => console.log("second"), []);
 * queue.schedule(1, () => console.log("first"), []);
 * now = 2;
 * for (const call of queue.takeDue(now)) queue.runTaken(call); // first, second
 * ```
 * @module
 */

import { AlreadyCalled, AlreadyCancelled } from "./error.ts";
import { callPlainly, tracedCall } from "./events.ts";
import type { IDelayedCall } from "./interfaces.ts";
import { MAIN_LANE, nowUs, traceInstant, tracing } from "../trace/mod.ts";
import { delayedCallLabel, functionName, schedulingSite } from "../trace/names.ts";

/**
 * What the trace knows of a delayed call, or of a LoopingCall's tick: its id,
 * its label, and the LoopingCall it belongs to. Given only while tracing.
 */
export interface TracedCall {
  /** The call's id, unique in the program. */
  id: number;
  /** What the learner would call it: `Countdown.count`, `LoopingCall of tick`. */
  label: string;
  /** `delayedCall`, or `loopingCall` for a LoopingCall's tick. */
  kind: "delayedCall" | "loopingCall";
  /** Where it was scheduled from, when that was read from the stack. */
  from?: string;
  /** The LoopingCall's id, for a tick. */
  loop?: number;
}

/**
 * A function may carry this property to name itself in the trace instead of
 * being named from its name or the call stack (a LoopingCall's tick does).
 */
export const TRACE_NAME: unique symbol = Symbol("traceName");

let lastTraceId = 0;
/** The id of the delayed call or LoopingCall running now, while tracing. */
let runningTraceId: number | undefined;

/**
 * A new id for a traced delayed call or LoopingCall.
 *
 * @example
 * ```ts
 * import { newTraceId } from "./delayed.ts";
 * console.log(newTraceId() < newTraceId()); // true
 * ```
 *
 * @returns the id
 */
export function newTraceId(): number {
  return ++lastTraceId;
}

/**
 * Run `f` as the delayed call or LoopingCall `id`: what it schedules is
 * recorded as scheduled `by` that id.
 *
 * @example
 * ```ts
 * import { runningAs } from "./delayed.ts";
 * console.log(runningAs(7, () => 42)); // 42
 * ```
 *
 * @param id the running call's id
 * @param f what it runs
 * @returns what `f` returned
 */
export function runningAs<T>(id: number, f: () => T): T {
  const previous = runningTraceId;
  runningTraceId = id;
  try {
    return f();
  } finally {
    runningTraceId = previous;
  }
}

/**
 * A due time in the reactor's seconds (`performance.timeOrigin` based) on the
 * trace's clock, µs.
 *
 * @example
 * ```ts
 * import { traceUsOfSeconds } from "./delayed.ts";
 * console.log(Math.round(traceUsOfSeconds(performance.timeOrigin / 1000))); // 0
 * ```
 *
 * @param seconds reactor seconds
 * @returns µs on the trace's clock
 */
export function traceUsOfSeconds(seconds: number): number {
  return (seconds * 1000 - performance.timeOrigin) * 1000;
}

/** `_heapIndex` of a call not in a queue (new, run, or cancelled). */
const NOT_QUEUED = -1;
/** `_heapIndex` of a call taken out of the heap because it is due, about to run. */
const DUE_NOW = -2;

/**
 * A function scheduled to run later: what `callLater` returns, on the reactor
 * and on `Clock` alike.
 *
 * @example
 * ```ts
 * import { Clock } from "./task.ts";
 *
 * const clock = new Clock();
 * const call = clock.callLater(5, (name: string) => console.log("hello", name), "world");
 * call.delay(1);
 * console.log(call.getTime()); // 6
 * clock.advance(6); // hello world
 * console.log(call.active()); // false
 * ```
 */
export class DelayedCall implements IDelayedCall {
  /** The function to call. */
  readonly func: (...args: never[]) => unknown;
  /** The arguments to call it with. */
  readonly args: readonly unknown[];
  #time: number;
  #called = false;
  #cancelled = false;
  readonly #queue: DelayedCallQueue;

  /**
   * Position in the queue's heap, or NOT_QUEUED / DUE_NOW. Internal to
   * {@linkcode DelayedCallQueue}; do not touch.
   *
   * @ignore
   */
  _heapIndex = NOT_QUEUED;
  /**
   * Tie-breaker: calls due at the same time run in the order of this number,
   * given when the call is (re)scheduled. Internal to the queue.
   */
  _sequence = 0;
  /**
   * What the trace knows of it; set only while tracing, by a traced queue.
   *
   * @ignore
   */
  _trace: TracedCall | undefined;

  /**
   * Made by {@linkcode DelayedCallQueue.schedule}; not meant to be built by hand.
   *
   * @param time the due time, in the queue's seconds
   * @param func the function
   * @param args its arguments
   * @param queue the queue that will run it
   */
  constructor(
    time: number,
    func: (...args: never[]) => unknown,
    args: readonly unknown[],
    queue: DelayedCallQueue,
  ) {
    this.#time = time;
    this.func = func;
    this.args = args;
    this.#queue = queue;
  }

  /** The due time, in the scheduler's seconds. */
  get time(): number {
    return this.#time;
  }

  /** Whether the call has run (or is running). */
  get called(): boolean {
    return this.#called;
  }

  /** Whether the call was cancelled. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /**
   * When the call is due.
   *
   * @returns the due time, in the scheduler's seconds
   */
  getTime(): number {
    return this.#time;
  }

  /**
   * Make sure the call never runs.
   *
   * @throws {AlreadyCancelled} if it was cancelled before
   * @throws {AlreadyCalled} if it has run
   */
  cancel(): void {
    this.#checkActive("cancel");
    this.#cancelled = true;
    this.#queue.remove(this);
    if (tracing && this._trace) {
      traceInstant("cancel", "delayed", MAIN_LANE, { call: this._trace.id });
    }
  }

  /**
   * Move the due time by `secondsLater` (negative: sooner).
   *
   * @param secondsLater seconds to add to the due time
   * @throws {AlreadyCancelled} if it was cancelled
   * @throws {AlreadyCalled} if it has run
   */
  delay(secondsLater: number): void {
    this.#checkActive("delay");
    checkNumber("delay", secondsLater);
    this.#time += secondsLater;
    this.#queue.reschedule(this);
    if (tracing && this._trace) this.#traceMoved();
  }

  /**
   * Make the call due `secondsFromNow` seconds from now.
   *
   * @param secondsFromNow the new delay from `seconds()`
   * @throws {AlreadyCancelled} if it was cancelled
   * @throws {AlreadyCalled} if it has run
   */
  reset(secondsFromNow: number): void {
    this.#checkActive("reset");
    checkNumber("reset", secondsFromNow);
    this.#time = this.#queue.seconds() + secondsFromNow;
    this.#queue.reschedule(this);
    if (tracing && this._trace) this.#traceMoved();
  }

  /**
   * Whether the call is still to come.
   *
   * @returns true while the call can still run: not run, not cancelled
   */
  active(): boolean {
    return !this.#called && !this.#cancelled;
  }

  /** Mark the call as run; the queue's runner calls this just before calling `func`. */
  _markCalled(): void {
    this.#called = true;
    this._heapIndex = NOT_QUEUED;
  }

  /**
   * A one-line description, as Twisted's repr of a DelayedCall: how far off
   * the due time is (`[in 4.99s]`, or `[0.50s ago]` once past), whether the
   * call was called or cancelled, and the function with its arguments.
   * `console.log`, `Deno.inspect` and template strings all print it.
   *
   * @example
   * ```ts
   * import { Clock } from "./task.ts";
   * const clock = new Clock();
   * const call = clock.callLater(5, function count(from: number) {}, 3);
   * console.log(`${call}`); // <DelayedCall [in 5.00s] called=false cancelled=false count(3)>
   * ```
   *
   * @returns the description
   */
  toString(): string {
    const left = this.#time - this.#queue.seconds();
    const when = left >= 0 ? `in ${left.toFixed(2)}s` : `${(-left).toFixed(2)}s ago`;
    const name = this.func.name || "anonymous";
    const args = this.args.map(argumentText).join(", ");
    return `<DelayedCall [${when}] called=${this.#called} cancelled=${this.#cancelled} ` +
      `${name}(${args})>`;
  }

  /**
   * What `console.log`, `Deno.inspect` and `node:util`'s `inspect` print:
   * {@linkcode toString}.
   *
   * @returns the description
   */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  #traceMoved(): void {
    traceInstant("reset", "delayed", MAIN_LANE, {
      call: this._trace?.id,
      dueUs: traceUsOfSeconds(this.#time),
    });
  }

  #checkActive(verb: string): void {
    if (this.#cancelled) {
      throw new AlreadyCancelled(`Tried to ${verb} an already-cancelled event.`);
    }
    if (this.#called) throw new AlreadyCalled(`Tried to ${verb} an already-called event.`);
  }
}

/** One argument as a call would be written: strings quoted, anything else inspected. */
function argumentText(value: unknown): string {
  try {
    if (typeof value === "string") return JSON.stringify(value);
    return Deno.inspect(value, { depth: 1, compact: true, breakLength: Infinity });
  } catch {
    return "?";
  }
}

function checkNumber(what: string, value: number): void {
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(`${what}: expected a number of seconds, got ${String(value)}`);
  }
}

/**
 * The pending delayed calls of one scheduler: a binary heap ordered by due
 * time, then by scheduling order. Adding, cancelling and moving a call cost
 * O(log n). Shared by the reactors and {@linkcode Clock}.
 *
 * @example
 * ```ts
 * import { DelayedCallQueue } from "./delayed.ts";
 *
 * let now = 0;
 * const queue = new DelayedCallQueue(() => now);
 * queue.schedule(2, () => console.log("second"), []);
 * queue.schedule(1, () => console.log("first"), []);
 * now = 5;
 * for (const call of queue.takeDue(now)) queue.runTaken(call); // first, second
 * ```
 */
export class DelayedCallQueue {
  readonly #heap: DelayedCall[] = [];
  #nextSequence = 0;
  #taken: DelayedCall[] = [];
  readonly #onScheduled: () => void;
  readonly #traced: boolean;
  /** The scheduler's clock, in seconds. */
  readonly seconds: () => number;

  /**
   * @param seconds the clock that `callLater` delays and `reset` count from
   * @param onScheduled called whenever a call is added or moved (the reactor
   *   wakes itself up there)
   * @param traced whether its calls are recorded while tracing: true for a
   *   reactor's queue (its clock must be the reactor's `seconds()`), false
   *   for a test's `Clock`
   */
  constructor(seconds: () => number, onScheduled: () => void = () => {}, traced = false) {
    this.seconds = seconds;
    this.#onScheduled = onScheduled;
    this.#traced = traced;
  }

  /**
   * Schedule `func(...args)` to run `delay` seconds from now.
   *
   * @param delay seconds from now, 0 or more
   * @param func the function
   * @param args its arguments
   * @returns the call's handle
   */
  schedule<Args extends unknown[]>(
    delay: number,
    func: (...args: Args) => unknown,
    args: Args,
  ): DelayedCall {
    if (typeof delay !== "number" || !(delay >= 0)) {
      throw new RangeError(
        `callLater: delay must be a number of seconds >= 0, got ${String(delay)}`,
      );
    }
    if (typeof func !== "function") {
      throw new TypeError(`callLater: expected a function, got ${typeof func}`);
    }
    const call = new DelayedCall(
      this.seconds() + delay,
      func as (...args: never[]) => unknown,
      args,
      this,
    );
    if (tracing && this.#traced) traceScheduled(call, delay);
    this.#push(call);
    this.#onScheduled();
    return call;
  }

  /** @returns the due time of the earliest pending call, or undefined if none */
  nextDueTime(): number | undefined {
    return this.#heap[0]?.time;
  }

  /** @returns the pending calls, including due ones not yet run */
  pending(): DelayedCall[] {
    return [...this.#heap, ...this.#taken.filter((call) => call._heapIndex === DUE_NOW)];
  }

  /**
   * Take out every call due at `now`, in order. Calls scheduled after this
   * (even with a delay of 0) stay for the next time. Run each with
   * {@linkcode runTaken}, which skips the ones cancelled or moved meanwhile.
   *
   * @param now the current time
   * @returns the due calls, earliest first
   */
  takeDue(now: number): DelayedCall[] {
    const taken: DelayedCall[] = [];
    while (this.#heap.length > 0 && this.#heap[0].time <= now) {
      const call = this.#removeAt(0);
      call._heapIndex = DUE_NOW;
      taken.push(call);
    }
    this.#taken = taken;
    return taken;
  }

  /**
   * Take out the earliest call if it is due at `now`.
   *
   * @param now the current time
   * @returns the call, or undefined if none is due
   */
  takeNextDue(now: number): DelayedCall | undefined {
    if (this.#heap.length === 0 || this.#heap[0].time > now) return undefined;
    const call = this.#removeAt(0);
    call._heapIndex = DUE_NOW;
    this.#taken = [call];
    return call;
  }

  /**
   * Run a call returned by {@linkcode takeDue} unless it was cancelled or
   * moved since. Errors from the call propagate.
   *
   * @param call the call
   * @returns whatever the call returned, or undefined if it was skipped
   */
  runTaken(call: DelayedCall): unknown {
    if (call._heapIndex !== DUE_NOW) return undefined;
    call._markCalled();
    if (tracing && call._trace) return runTraced(call, call._trace);
    return callPlainly(call.func, call.args);
  }

  /**
   * Forget a cancelled call.
   *
   * @param call the call
   */
  remove(call: DelayedCall): void {
    if (call._heapIndex >= 0) this.#removeAt(call._heapIndex);
    call._heapIndex = NOT_QUEUED;
  }

  /**
   * Put a call whose due time changed back in its place. It counts as newly
   * scheduled for ties.
   *
   * @param call the call
   */
  reschedule(call: DelayedCall): void {
    if (call._heapIndex >= 0) this.#removeAt(call._heapIndex);
    this.#push(call);
    this.#onScheduled();
  }

  #push(call: DelayedCall): void {
    call._sequence = this.#nextSequence++;
    call._heapIndex = this.#heap.length;
    this.#heap.push(call);
    this.#siftUp(call._heapIndex);
  }

  #removeAt(index: number): DelayedCall {
    const heap = this.#heap;
    const removed = heap[index];
    const last = heap.pop() as DelayedCall;
    if (index < heap.length) {
      heap[index] = last;
      last._heapIndex = index;
      this.#siftDown(index);
      this.#siftUp(last._heapIndex);
    }
    removed._heapIndex = NOT_QUEUED;
    return removed;
  }

  #siftUp(index: number): void {
    const heap = this.#heap;
    const call = heap[index];
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex];
      if (!earlier(call, parent)) break;
      heap[index] = parent;
      parent._heapIndex = index;
      index = parentIndex;
    }
    heap[index] = call;
    call._heapIndex = index;
  }

  #siftDown(index: number): void {
    const heap = this.#heap;
    const length = heap.length;
    const call = heap[index];
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && earlier(heap[right], heap[left]) ? right : left;
      if (!earlier(heap[child], call)) break;
      heap[index] = heap[child];
      heap[index]._heapIndex = index;
      index = child;
    }
    heap[index] = call;
    call._heapIndex = index;
  }
}

/** Name a call being scheduled and record its `schedule` event. */
function traceScheduled(call: DelayedCall, delay: number): void {
  const named = (call.func as { [TRACE_NAME]?: Omit<TracedCall, "id"> })[TRACE_NAME];
  let traced: TracedCall;
  if (named !== undefined) {
    traced = { id: newTraceId(), ...named };
  } else {
    const from = schedulingSite();
    const label = delayedCallLabel(functionName(call.func), from);
    traced = { id: newTraceId(), label, kind: "delayedCall", from };
  }
  call._trace = traced;
  traceInstant("schedule", "delayed", MAIN_LANE, {
    call: traced.id,
    label: traced.label,
    delayS: delay,
    dueUs: traceUsOfSeconds(call.time),
    by: runningTraceId,
    from: traced.from,
    loop: traced.loop,
  });
}

/** Run a due call, recorded as a `callback` event with its lateness and outcome. */
function runTraced(call: DelayedCall, traced: TracedCall): unknown {
  const start = nowUs();
  const dueUs = traceUsOfSeconds(call.time);
  const args: Record<string, unknown> = {
    kind: traced.kind,
    call: traced.id,
    loop: traced.loop,
    dueUs,
    lateUs: Math.max(0, start - dueUs),
  };
  return tracedCall(
    traced.label,
    start,
    args,
    () => runningAs(traced.loop ?? traced.id, () => callPlainly(call.func, call.args)),
  );
}

function earlier(a: DelayedCall, b: DelayedCall): boolean {
  return a.time < b.time || (a.time === b.time && a._sequence < b._sequence);
}
