/**
 * The contracts of the reactor: open this file when the article opens
 * `twisted.internet.interfaces`.
 *
 * Twisted writes its interfaces with `zope.interface`; they are mostly
 * documentation, a precise statement of what "walks like a duck" means. Here
 * they are TypeScript interfaces. TypeScript's typing is structural: an object
 * provides an interface when it has the right members, whatever its class and
 * without declaring anything. That is duck typing, checked by the compiler
 * instead of discovered at run time. A class may still say
 * `implements IReadDescriptor` to have the compiler check it where it is
 * written, which is the closest thing to zope's `@implementer`.
 *
 * Interfaces exist only for the compiler: nothing here is run, and there is
 * no run-time `providedBy`.
 *
 * @example
 * ```ts
 * import type { IReadDescriptor } from "./interfaces.ts";
 * import { CONNECTION_DONE } from "./main.ts";
 *
 * // No `implements` clause needed: the shape is what counts.
 * const reader: IReadDescriptor = {
 *   fileno: () => 3,
 *   doRead: () => CONNECTION_DONE,
 *   connectionLost: (reason) => console.log("lost:", reason.message),
 *   logPrefix: () => "example",
 * };
 * ```
 *
 * @module
 */

/** The three phases of a system event, run in this order. */
export type EventPhase = "before" | "during" | "after";

/**
 * A system event: `startup` fires when the loop starts, `shutdown` when it
 * is stopped. Other names may be fired by hand with `fireSystemEvent`.
 */
export type SystemEvent = "startup" | "shutdown" | (string & Record<never, never>);

/**
 * The handle `addSystemEventTrigger` returns, to give back to
 * `removeSystemEventTrigger`. Opaque: only its identity matters.
 */
export interface TriggerId {
  /** The phase the trigger was added to. */
  readonly phase: EventPhase;
  /** The event the trigger was added to. */
  readonly event: SystemEvent;
}

/**
 * Something that can say who it is in a log line. The reactor puts the prefix
 * in front of the report of an error raised by a descriptor's callback, so
 * that a reader knows whose callback failed.
 */
export interface ILoggingContext {
  /**
   * A short name for log lines, such as the class name.
   *
   * @returns the prefix, without brackets
   */
  logPrefix(): string;
}

/**
 * A file descriptor the reactor can watch: an object, not a number, so that
 * the reactor can call it back.
 */
export interface IFileDescriptor extends ILoggingContext {
  /**
   * The descriptor number to wait on, as the socket layer's `fileno()` gives
   * it. Return -1 once the underlying socket is closed: the reactor then
   * treats the descriptor as lost (it removes it and calls `connectionLost`
   * with a `ConnectionFdescWentAway`). Should not throw; if it does, the
   * reactor reports the error (with `logPrefix()`), removes the descriptor
   * and calls `connectionLost` with what was thrown.
   *
   * @returns a non-negative descriptor number, or -1
   */
  fileno(): number;

  /**
   * Called once, after the reactor has stopped watching this descriptor
   * because it ended: `doRead`/`doWrite` returned a reason or threw, the
   * descriptor went away, or the reactor is shutting down (`stop()`, Ctrl-C)
   * and disconnects every descriptor still registered. The reactor has
   * already removed it from both its reader and writer sets; closing the
   * socket is the descriptor's job. An error thrown here is reported (with
   * `logPrefix()`) and the loop, and the other descriptors, go on.
   *
   * @param reason `CONNECTION_DONE` for a clean close, `CONNECTION_LOST` (or
   *   a subclass) for an unclean one or at shutdown, or the error that
   *   `doRead`/`doWrite` threw (a thrown value that is not an `Error` comes
   *   wrapped in one, as its `cause`)
   */
  connectionLost(reason: Error): void;
}

/** A descriptor the reactor can tell when there are bytes (or a connection, or end of stream) to read. */
export interface IReadDescriptor extends IFileDescriptor {
  /**
   * The descriptor is readable: reading now will not block. Read what is
   * there, without blocking, and return. Called synchronously by the loop, so
   * nothing else runs until it returns.
   *
   * @returns nothing to keep going; an `Error` (normally `CONNECTION_DONE`
   *   or `CONNECTION_LOST`) to say the descriptor is finished. Throwing works
   *   like returning the thrown error, and the error is also reported.
   */
  doRead(): Error | void;
}

/** A descriptor the reactor can tell when there is room to write. */
export interface IWriteDescriptor extends IFileDescriptor {
  /**
   * The descriptor is writable: some bytes can be sent now without blocking.
   * Send what fits and return. Same return and throw rules as `doRead`.
   *
   * @returns nothing to keep going, or an `Error` to say it is finished
   */
  doWrite(): Error | void;
}

/**
 * A function scheduled to run later, as returned by `callLater`. Printed
 * (`console.log`, `Deno.inspect`, `String()`), it says when it is due,
 * whether it was called or cancelled, and which function it calls with which
 * arguments, as Twisted's repr does.
 */
export interface IDelayedCall {
  /**
   * When the call is due, in the same seconds as the scheduler's
   * `seconds()`.
   *
   * @returns the due time in seconds
   */
  getTime(): number;

  /**
   * Make sure the call never runs.
   *
   * @throws {AlreadyCancelled} if it was cancelled before
   * @throws {AlreadyCalled} if it has already run
   */
  cancel(): void;

  /**
   * Move the call later (or earlier, with a negative number) by this many
   * seconds from its current due time.
   *
   * @param secondsLater how far to move the due time
   * @throws {AlreadyCancelled} if it was cancelled
   * @throws {AlreadyCalled} if it has already run
   */
  delay(secondsLater: number): void;

  /**
   * Make the call due this many seconds from now, whatever its due time was.
   *
   * @param secondsFromNow the new delay, counted from `seconds()`
   * @throws {AlreadyCancelled} if it was cancelled
   * @throws {AlreadyCalled} if it has already run
   */
  reset(secondsFromNow: number): void;

  /**
   * Whether the call is still waiting to run: neither run nor cancelled.
   *
   * @returns true while it can still run
   */
  active(): boolean;
}

/** Time: scheduling functions to run later. The reactor provides it, and so does `Clock`. */
export interface IReactorTime {
  /**
   * The current time in seconds, as this scheduler sees it. Due times of
   * delayed calls are in the same units.
   *
   * @returns seconds, with a fractional part
   */
  seconds(): number;

  /**
   * Call `f(...args)` once, `delay` seconds from now (at the earliest: a busy
   * callback can make it late). Calls due at the same time run in the order
   * they were scheduled.
   *
   * @param delay seconds from now, 0 or more; fractions are fine
   * @param f the function to call
   * @param args the arguments to call it with
   * @returns a handle to cancel, delay or reset the call
   */
  callLater<Args extends unknown[]>(
    delay: number,
    f: (...args: Args) => unknown,
    ...args: Args
  ): IDelayedCall;

  /**
   * The calls scheduled and not yet run or cancelled.
   *
   * @returns the pending calls, in no particular order
   */
  getDelayedCalls(): IDelayedCall[];
}

/** The life of the loop: starting, stopping, and the system events around them. */
export interface IReactorCore {
  /**
   * True from the moment the loop starts (after the `during` phase of
   * `startup`) until it begins to stop.
   */
  readonly running: boolean;

  /**
   * Run the loop in the calling thread until `stop()` or `crash()`. The
   * `startup` triggers (and so the `callWhenRunning` functions) run before
   * this returns its promise. While the loop is idle the thread goes back to
   * the runtime's event loop, so waiting costs no CPU.
   *
   * Signals: in the `during` phase of `startup` (after the `before`
   * triggers), the reactor starts handling SIGINT: a first Ctrl-C is
   * `stop()`, a second `crash()`. It stops handling it when the loop ends.
   *
   * @returns a promise that settles once the loop has ended and the
   *   `shutdown` triggers have run
   * @throws {ReactorAlreadyRunning} if it is running
   * @throws {ReactorNotRestartable} if it was stopped with `stop()` before;
   *   a reactor ended by `crash()` may run again
   */
  run(): Promise<void>;

  /**
   * Stop the loop gracefully: fire the `shutdown` triggers (`before`,
   * waiting for any promises they return, then `during` and `after`), then
   * end the loop. Takes effect at the next loop iteration. In the `during`
   * phase the reactor removes every reader and writer still registered and
   * calls `connectionLost(CONNECTION_LOST)` on each (an error there is
   * reported, and the others still get theirs), so nothing is left watched.
   * A stopped reactor cannot run again.
   *
   * @throws {ReactorNotRunning} if the reactor is not running or already stopping
   */
  stop(): void;

  /**
   * End the loop at once, without the `shutdown` triggers: descriptors stay
   * registered and nobody is told. For tests and emergencies. The reactor
   * may `run()` again afterwards.
   */
  crash(): void;

  /**
   * One turn of the loop, for a program that drives it by hand instead of
   * calling `run()`: run the delayed calls that are due, wait at most
   * `delay` seconds for a descriptor to be ready, and call `doRead` and
   * `doWrite` on those that are. Not meant to be called while `run()` runs.
   *
   * @param delay seconds to wait at most (default 0: only look)
   * @returns a promise that resolves when the turn is over: the wait hands
   *   the thread back to the runtime, so a turn is never synchronous
   */
  iterate(delay?: number): Promise<void>;

  /**
   * Run the triggers of a system event, phase by phase. The reactor fires
   * `startup` and `shutdown` itself.
   *
   * @param event the event to fire
   */
  fireSystemEvent(event: SystemEvent): void;

  /**
   * Call `f(...args)` when `event` fires, in the given phase. In the `before`
   * phase, a trigger may return a promise: the `during` phase waits for all
   * of them.
   *
   * @param phase `before`, `during` or `after`
   * @param event `startup`, `shutdown`, or another event name
   * @param f the trigger
   * @param args its arguments
   * @returns a handle for `removeSystemEventTrigger`
   */
  addSystemEventTrigger<Args extends unknown[]>(
    phase: EventPhase,
    event: SystemEvent,
    f: (...args: Args) => unknown,
    ...args: Args
  ): TriggerId;

  /**
   * Remove a trigger before it runs. While an event fires its `before`
   * phase, removing a `before` trigger of that event which has already run
   * does nothing but print a deprecation warning (once), as in Twisted.
   *
   * @param triggerId what `addSystemEventTrigger` returned
   * @throws {Error} if the handle is unknown, already removed, or already
   *   run (except in the case above)
   */
  removeSystemEventTrigger(triggerId: TriggerId): void;

  /**
   * Call `f(...args)` as soon as the loop runs: now if it is running,
   * otherwise just after it starts (as an `after startup` trigger), in the
   * order registered.
   *
   * @param f the function
   * @param args its arguments
   * @returns the trigger handle, or undefined if `f` was called at once
   */
  callWhenRunning<Args extends unknown[]>(
    f: (...args: Args) => unknown,
    ...args: Args
  ): TriggerId | undefined;
}

/** The watched descriptors: which ones the loop waits on for reading and for writing. */
export interface IReactorFDSet {
  /**
   * Start watching `reader` for readability; each time it is readable, the
   * loop calls its `doRead()`. Adding it twice is the same as once.
   *
   * @param reader the descriptor
   */
  addReader(reader: IReadDescriptor): void;

  /**
   * Start watching `writer` for writability; each time it is writable, the
   * loop calls its `doWrite()`. Adding it twice is the same as once.
   *
   * @param writer the descriptor
   */
  addWriter(writer: IWriteDescriptor): void;

  /**
   * Stop watching `reader` for reading. Not watched: nothing happens. A reader
   * removed while ready descriptors are being handled is not called later in
   * that round.
   *
   * @param reader the descriptor
   */
  removeReader(reader: IReadDescriptor): void;

  /**
   * Stop watching `writer` for writing. Not watched: nothing happens.
   *
   * @param writer the descriptor
   */
  removeWriter(writer: IWriteDescriptor): void;

  /**
   * Stop watching every descriptor, without calling `connectionLost`
   * (the shutdown's disconnecting calls this, then `connectionLost` on each).
   *
   * @returns the descriptors removed, readers and writers, each once; none is
   *   registered afterwards
   */
  removeAll(): IFileDescriptor[];

  /**
   * The descriptors watched for reading.
   *
   * @returns a new array
   */
  getReaders(): IReadDescriptor[];

  /**
   * The descriptors watched for writing.
   *
   * @returns a new array
   */
  getWriters(): IWriteDescriptor[];
}

/**
 * A repeating call, what `LoopingCall` in `task.ts` provides (Twisted
 * documents it on the class; here it sits with the other contracts). Make one
 * with `new LoopingCall(f, ...args)`, or with `LoopingCall.withCount(count)`
 * to have the function told how many intervals passed since its last call
 * (1 when on time, more when the program fell behind; the first call counts 1).
 */
export interface ILoopingCall {
  /** Whether it is started and not stopped. */
  readonly running: boolean;

  /**
   * Seconds between calls, once started. Changing it takes effect from the
   * next call scheduled.
   */
  interval: number | undefined;

  /**
   * Call the function every `interval` seconds, on the grid `start time + k *
   * interval`: a late call is followed by the next point of the grid, the
   * missed points are skipped. If the function returns a promise, the next
   * call waits for it.
   *
   * @param interval seconds, 0 or more (0: every turn of the reactor)
   * @param now call at once (default), or first after one interval
   * @returns a promise that resolves with the loop once `stop()` is called,
   *   and rejects with what the function threw (the calls then end)
   */
  start(interval: number, now?: boolean): Promise<ILoopingCall>;

  /**
   * No more calls. The promise of `start` resolves now, or when the
   * function's pending promise settles.
   *
   * @throws {Error} if not running
   */
  stop(): void;

  /**
   * Skip the call now awaited and start the interval again from now: the
   * next call comes one whole interval later. Nothing changes while the
   * function's promise is pending.
   *
   * @throws {Error} if not running
   */
  reset(): void;
}
