/**
 * What both reactors share, our counterpart of `twisted.internet.base`:
 * delayed calls (kept in `delayed.ts`), system event triggers (`events.ts`),
 * run/stop/crash, the loop itself,
 * error reporting, the reader and writer sets, and the self-wake. The select
 * and poll reactors only supply the wait (`doIteration`).
 *
 * One turn of the loop (Figure 5 of Part 2):
 *
 * 1. run the delayed calls that are due (`runUntilCurrent`);
 * 2. wait for a descriptor to be ready, at most until the next delayed call
 *    is due (`doIteration`), handing the thread back to Deno meanwhile;
 * 3. call `doRead()`/`doWrite()` on the ready descriptors, and go round.
 *
 * @example
 * ```ts
 * import { SelectReactor } from "./select.ts";
 *
 * const reactor = new SelectReactor();
 * reactor.callWhenRunning(() => console.log("running"));
 * reactor.callLater(0.1, () => reactor.stop());
 * await reactor.run();
 * console.log("stopped");
 * ```
 *
 * @module
 */

import { wakeUp } from "../socket/mod.ts";
import { DelayedCall, DelayedCallQueue } from "./delayed.ts";
import {
  describeTarget,
  MAIN_LANE,
  nowUs,
  traceBegin,
  traceComplete,
  traceEnd,
  traceInstant,
  tracing,
} from "../trace/mod.ts";
import { callbackLabel, oneLine } from "../trace/names.ts";
import { isThenable, PHASES, ThreePhaseEvent, Trigger } from "./events.ts";
import { CONNECTION_LOST } from "./main.ts";
import {
  ConnectionFdescWentAway,
  ReactorAlreadyInstalledError,
  ReactorAlreadyRunning,
  ReactorNotRestartable,
  ReactorNotRunning,
} from "./error.ts";
import type {
  EventPhase,
  IFileDescriptor,
  IReactorCore,
  IReactorFDSet,
  IReactorTime,
  IReadDescriptor,
  IWriteDescriptor,
  SystemEvent,
  TriggerId,
} from "./interfaces.ts";

/** The longest single wait, in seconds: a far-off call is reached in several waits. */
const LONGEST_WAIT_SECONDS = 24 * 60 * 60;

/**
 * The text reported on stderr for an error nobody caught: a first line
 * `Unhandled Error` (with the descriptor's log prefix in brackets when there
 * is one), then the error's stack. Whatever was thrown, even a value that
 * cannot become a string, gives a report: this function never throws.
 *
 * @example
 * ```ts
 * import { formatUnhandledError } from "./base.ts";
 * console.log(formatUnhandledError(new Error("I fall down."), "PoetrySocket").split("\n")[0]);
 * // [PoetrySocket] Unhandled Error
 * console.log(formatUnhandledError(Object.create(null)));
 * // Unhandled Error
 * // Uncaught value: [Object: null prototype] {}
 * ```
 *
 * @param error what was thrown
 * @param logPrefix who was being called, if known
 * @returns the report, several lines, no trailing newline
 */
export function formatUnhandledError(error: unknown, logPrefix?: string): string {
  const heading = logPrefix === undefined ? "Unhandled Error" : `[${logPrefix}] Unhandled Error`;
  return `${heading}\n${describeThrown(error)}`;
}

/** An error's stack (or name and message), or `Uncaught value: ...` for anything else thrown. */
function describeThrown(thrown: unknown): string {
  try {
    if (thrown instanceof Error) {
      const stack = thrown.stack;
      if (typeof stack === "string" && stack !== "") return stack;
      return `${String(thrown.name)}: ${String(thrown.message)}`;
    }
  } catch {
    // An error whose stack, name or message cannot be read: described as a value below.
  }
  return `Uncaught value: ${textOf(thrown)}`;
}

/** Any value as text, never throwing: `String`, else `Deno.inspect`, else a placeholder. */
function textOf(value: unknown): string {
  try {
    return String(value);
  } catch {
    // No string conversion (Object.create(null), a symbol-only toString...).
  }
  try {
    return Deno.inspect(value);
  } catch {
    return "(a value that cannot be printed)";
  }
}

/** What was thrown (or returned as a reason), as the `Error` that `connectionLost` expects. */
function asError(thrown: unknown): Error {
  try {
    if (thrown instanceof Error) return thrown;
  } catch {
    // A proxy that refuses even `instanceof`.
  }
  return new Error(textOf(thrown), { cause: thrown });
}

/**
 * The reactor minus its way of waiting. Subclasses implement
 * {@linkcode doIteration} (wait, then dispatch the ready descriptors with
 * {@linkcode readOrWrite}) and may watch changes to the descriptor sets with
 * {@linkcode descriptorChanged}.
 *
 * @example
 * ```ts
 * import { PollReactor } from "./poll.ts";
 *
 * const reactor = new PollReactor(); // any subclass works the same way
 * reactor.addSystemEventTrigger("before", "shutdown", () => console.log("cleaning up"));
 * reactor.callLater(0, () => reactor.stop());
 * await reactor.run(); // cleaning up
 * ```
 */
export abstract class ReactorBase implements IReactorCore, IReactorTime, IReactorFDSet {
  /** The descriptors watched for reading, in the order added. */
  protected readonly readers: Set<IReadDescriptor> = new Set();
  /** The descriptors watched for writing, in the order added. */
  protected readonly writers: Set<IWriteDescriptor> = new Set();

  /**
   * Where reports of unhandled errors go: stderr by default. Tests replace it
   * to capture them.
   */
  writeErrorReport: (report: string) => void = (report) => console.error(report);

  /**
   * Where warnings go (a use of the reactor that works but should be
   * changed): stderr by default. Tests replace it to capture them.
   */
  writeWarning: (warning: string) => void = (warning) => console.error(warning);

  readonly #calls: DelayedCallQueue;
  readonly #events = new Map<SystemEvent, ThreePhaseEvent>();
  #running = false;
  #started = false;
  #stopped = true;
  #startedBefore = false;
  #justStopped = false;
  #waiting = false;
  #wakeRequested = false;
  /** Whether the `during startup` trigger that sets `running` is registered and not yet run. */
  #startTriggerPending = false;
  #listeningForInterrupt = false;
  #warnedOfRunTriggerRemoval = false;
  /** Counts the runs: a loop left over from a crashed run sees a newer number and ends. */
  #runNumber = 0;
  /** Settles when the loop of the latest run has ended; undefined once it has. */
  #loopEnded: Promise<void> | undefined;
  readonly #onInterrupt = (): void => this.#interrupted();

  /** A reactor that has not run yet. Prefer `install()` and `mod.ts` in programs. */
  constructor() {
    this.#calls = new DelayedCallQueue(() => this.seconds(), () => this.wake(), true);
    this.#addStartTrigger();
    this.#addOwnTrigger("during", "shutdown", () => this.#endLoop());
    this.#addOwnTrigger("during", "shutdown", () => this.disconnectAll());
  }

  // -- IReactorCore --------------------------------------------------------

  /** True once the loop has started, until it begins to stop. */
  get running(): boolean {
    return this.#running;
  }

  /**
   * Run the loop until stopped. The `startup` triggers, and so the
   * `callWhenRunning` functions, run before this returns. From the `during`
   * phase of `startup` until the loop ends, Ctrl-C (SIGINT) stops the
   * reactor gracefully; a second Ctrl-C ends the loop at once (`crash`).
   * After `crash()` the reactor may run again; after `stop()` it may not.
   *
   * @returns a promise that settles when the loop has ended, after the
   *   `shutdown` triggers
   * @throws {ReactorAlreadyRunning} if it is running
   * @throws {ReactorNotRestartable} if it was stopped with `stop()` before
   */
  run(): Promise<void> {
    if (this.#started) throw new ReactorAlreadyRunning();
    if (this.#startedBefore) throw new ReactorNotRestartable();
    this.#started = true;
    this.#stopped = false;
    if (tracing) traceInstant("run", "reactor", MAIN_LANE, { reactor: this.constructor.name });
    const runNumber = ++this.#runNumber;
    this.fireSystemEvent("startup");
    // A startup trigger crashed this run (and maybe ran the reactor again): it is over.
    if (!this.#started || runNumber !== this.#runNumber) return Promise.resolve();
    // A crashed run's loop may still be finishing its turn: this run's loop starts after it.
    const previous = this.#loopEnded;
    const ended = Promise.withResolvers<void>();
    this.#loopEnded = ended.promise;
    const loop = () =>
      this.#mainLoop(runNumber).finally(() => {
        if (this.#loopEnded === ended.promise) this.#loopEnded = undefined;
        ended.resolve();
      });
    return previous === undefined ? loop() : previous.then(loop);
  }

  /**
   * Stop gracefully: the `shutdown` triggers run at the end of the next
   * round of delayed calls, then the loop ends. The `during` phase of
   * `shutdown` disconnects every descriptor still registered (see
   * {@linkcode disconnectAll}). A stopped reactor cannot run again.
   *
   * @throws {ReactorNotRunning} if not running, or already stopping
   */
  stop(): void {
    if (this.#stopped) throw new ReactorNotRunning();
    if (tracing) traceInstant("stop", "reactor", MAIN_LANE);
    this.#stopped = true;
    this.#justStopped = true;
    this.#startedBefore = true;
    this.wake();
  }

  /**
   * End the loop at once, without the `shutdown` triggers (descriptors stay
   * registered). The reactor may `run()` again afterwards.
   */
  crash(): void {
    if (tracing) traceInstant("crash", "reactor", MAIN_LANE);
    this.#endLoop();
  }

  /** What `crash()` does, without being recorded: the `during shutdown` trigger's part of `stop()`. */
  #endLoop(): void {
    this.#started = false;
    this.#running = false;
    this.#stopped = true;
    this.#stopListeningForInterrupt();
    if (!this.#startTriggerPending) this.#addStartTrigger();
    this.wake();
  }

  /**
   * One turn of the loop, for a program that drives the reactor itself
   * instead of calling `run()`: run the delayed calls that are due, wait for
   * descriptors at most `delay` seconds, and call `doRead`/`doWrite` on the
   * ready ones. Not meant to be called while `run()` is running.
   *
   * @example
   * ```ts
   * import { SelectReactor } from "./select.ts";
   * const reactor = new SelectReactor();
   * reactor.callLater(0, () => console.log("due, so run by the turn"));
   * await reactor.iterate(); // due, so run by the turn
   * ```
   *
   * @param delay seconds to wait at most for a descriptor to be ready (0: only look)
   * @returns a promise that resolves when the turn is over (the wait hands the
   *   thread back to the runtime, so a turn cannot be synchronous)
   */
  async iterate(delay = 0): Promise<void> {
    if (typeof delay !== "number" || !(delay >= 0)) {
      throw new RangeError(`iterate: delay must be a number of seconds >= 0, got ${String(delay)}`);
    }
    this.runUntilCurrent();
    this.dropLostDescriptors();
    await this.doIteration(delay);
  }

  /**
   * Remove every reader and writer and call `connectionLost(CONNECTION_LOST)`
   * on each, once. An error thrown by one `connectionLost` is reported, with
   * that descriptor's log prefix, and the others still get theirs. Runs in
   * the `during` phase of `shutdown`, after the loop was told to end.
   *
   * @example
   * ```ts
   * import { PollReactor } from "./poll.ts";
   * const reactor = new PollReactor();
   * reactor.disconnectAll(); // nothing registered: nothing to do
   * ```
   */
  disconnectAll(): void {
    for (const descriptor of this.removeAll()) this.#tellLost(descriptor, CONNECTION_LOST);
  }

  /**
   * Run the triggers of `event`, phase by phase.
   *
   * @param event the event to fire
   */
  fireSystemEvent(event: SystemEvent): void {
    this.#events.get(event)?.fire();
  }

  /**
   * Call `f(...args)` when `event` fires, in `phase`.
   *
   * @param phase `before`, `during` or `after`
   * @param event the event
   * @param f the trigger; in `before`, it may return a promise to delay the later phases
   * @param args its arguments
   * @returns the handle for {@linkcode removeSystemEventTrigger}
   */
  addSystemEventTrigger<Args extends unknown[]>(
    phase: EventPhase,
    event: SystemEvent,
    f: (...args: Args) => unknown,
    ...args: Args
  ): TriggerId {
    if (!PHASES.includes(phase)) {
      throw new RangeError(`addSystemEventTrigger: unknown phase ${JSON.stringify(phase)}`);
    }
    if (typeof f !== "function") {
      throw new TypeError(`addSystemEventTrigger: expected a function, got ${typeof f}`);
    }
    let systemEvent = this.#events.get(event);
    if (systemEvent === undefined) {
      systemEvent = new ThreePhaseEvent((error) => this.reportError(error));
      this.#events.set(event, systemEvent);
    }
    const trigger = new Trigger(phase, event, f as (...args: never[]) => unknown, args);
    systemEvent.phases[phase].push(trigger);
    return trigger;
  }

  /**
   * Remove a trigger that has not run yet. While `event` fires its `before`
   * phase, removing a `before` trigger of it that has already run does
   * nothing but warn (once per reactor, on {@linkcode writeWarning}), as
   * Twisted does; any other trigger that already ran cannot be removed.
   *
   * @param triggerId what {@linkcode addSystemEventTrigger} returned
   * @throws {Error} if it is unknown, already run or already removed
   */
  removeSystemEventTrigger(triggerId: TriggerId): void {
    const systemEvent = this.#events.get(triggerId.event);
    const outcome = triggerId instanceof Trigger && systemEvent !== undefined
      ? systemEvent.remove(triggerId)
      : "unknown";
    if (outcome === "unknown") {
      throw new Error("removeSystemEventTrigger: no such trigger (already run or removed?)");
    }
    if (outcome === "already run" && !this.#warnedOfRunTriggerRemoval) {
      this.#warnedOfRunTriggerRemoval = true;
      this.writeWarning(
        `DeprecationWarning: removing a "before ${triggerId.event}" trigger that has already ` +
          "run does nothing; a later version may throw instead.",
      );
    }
  }

  /**
   * Call `f(...args)` now if running, otherwise just after the loop starts.
   *
   * @param f the function
   * @param args its arguments
   * @returns the trigger handle when deferred, undefined when called at once
   */
  callWhenRunning<Args extends unknown[]>(
    f: (...args: Args) => unknown,
    ...args: Args
  ): TriggerId | undefined {
    if (this.#running) {
      f(...args);
      return undefined;
    }
    const trigger = this.addSystemEventTrigger("after", "startup", f, ...args);
    (trigger as Trigger).traceKind = "whenRunning";
    return trigger;
  }

  // -- IReactorTime --------------------------------------------------------

  /**
   * The reactor's clock: seconds since the epoch, from a monotonic source
   * (`performance.timeOrigin + performance.now()`), so it never goes back.
   *
   * @returns seconds, with a fractional part
   */
  seconds(): number {
    return (performance.timeOrigin + performance.now()) / 1000;
  }

  /**
   * Call `f(...args)` `delay` seconds from now.
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

  // -- IReactorFDSet -------------------------------------------------------

  /**
   * Watches a descriptor for reading: its `doRead` is called while it has something to read.
   *
   * @param reader the descriptor to watch for reading
   */
  addReader(reader: IReadDescriptor): void {
    if (this.readers.has(reader)) return;
    this.readers.add(reader);
    this.descriptorChanged(reader);
    this.wake();
  }

  /**
   * Watches a descriptor for writing: its `doWrite` is called while it can take bytes.
   *
   * @param writer the descriptor to watch for writing
   */
  addWriter(writer: IWriteDescriptor): void {
    if (this.writers.has(writer)) return;
    this.writers.add(writer);
    this.descriptorChanged(writer);
    this.wake();
  }

  /**
   * Stops watching a descriptor for reading; it is not told (no `connectionLost`).
   *
   * @param reader the descriptor to stop watching for reading
   */
  removeReader(reader: IReadDescriptor): void {
    if (!this.readers.delete(reader)) return;
    this.descriptorChanged(reader);
    this.wake();
  }

  /**
   * Stops watching a descriptor for writing; it is not told (no `connectionLost`).
   *
   * @param writer the descriptor to stop watching for writing
   */
  removeWriter(writer: IWriteDescriptor): void {
    if (!this.writers.delete(writer)) return;
    this.descriptorChanged(writer);
    this.wake();
  }

  /**
   * Stops watching every descriptor, readers and writers.
   *
   * @returns every descriptor removed, each once; none gets `connectionLost`
   */
  removeAll(): IFileDescriptor[] {
    const removed = new Set<IFileDescriptor>([...this.readers, ...this.writers]);
    for (const descriptor of removed) this.#forget(descriptor);
    if (removed.size > 0) this.wake();
    return [...removed];
  }

  /**
   * The readers, in the order added.
   *
   * @returns the descriptors watched for reading (a copy)
   */
  getReaders(): IReadDescriptor[] {
    return [...this.readers];
  }

  /**
   * The writers, in the order added.
   *
   * @returns the descriptors watched for writing (a copy)
   */
  getWriters(): IWriteDescriptor[] {
    return [...this.writers];
  }

  // -- for subclasses ------------------------------------------------------

  /**
   * Wait for ready descriptors, at most `timeout` seconds (null: no limit),
   * then call {@linkcode readOrWrite} for each. The wait must go through
   * {@linkcode waitFor} so that the reactor can wake itself.
   *
   * @param timeout seconds to wait at most, or null to wait until something happens
   */
  protected abstract doIteration(timeout: number | null): Promise<void>;

  /**
   * Called before each wait, before its timeout is computed: disconnect the
   * descriptors that cannot be waited on (see {@linkcode disconnect}), so
   * that what their `connectionLost` schedules counts for this wait.
   */
  protected dropLostDescriptors(): void {}

  /**
   * Called after a descriptor was added to or removed from the reader or
   * writer set (`readers`/`writers` already show the change).
   *
   * @param _descriptor the descriptor
   */
  protected descriptorChanged(_descriptor: IFileDescriptor): void {}

  /**
   * Await the socket layer's wait (`selectAsync`, `pollAsync`), marking the
   * reactor as idle meanwhile: a `callLater`, `addReader`, `stop`... made
   * by code outside the loop while it waits then calls `wakeUp()` so the
   * wait returns at once.
   *
   * @param wait the promise of the wait, already started
   * @returns what the wait gave
   */
  protected async waitFor<T>(wait: Promise<T>): Promise<T> {
    this.#waiting = true;
    this.#wakeRequested = false;
    try {
      return await wait;
    } finally {
      this.#waiting = false;
    }
  }

  /** Make a wait in progress return at once; nothing if the loop is not waiting. */
  protected wake(): void {
    if (this.#waiting && !this.#wakeRequested) {
      this.#wakeRequested = true;
      wakeUp();
    }
  }

  /**
   * Call `doRead()` (or `doWrite()`) on a ready descriptor. A descriptor
   * whose `fileno()` is -1 is lost. If the call returns an error, or throws
   * (reported as unhandled), the descriptor is removed and told why with
   * `connectionLost`.
   *
   * @param descriptor the ready descriptor
   * @param reading true for `doRead`, false for `doWrite`
   */
  protected readOrWrite(descriptor: IReadDescriptor | IWriteDescriptor, reading: boolean): void {
    let reason: Error | undefined;
    try {
      const fd = descriptor.fileno();
      if (fd === -1) {
        reason = new ConnectionFdescWentAway();
      } else if (tracing) {
        reason = tracedReadOrWrite(descriptor, fd, reading);
      } else {
        const result = reading
          ? (descriptor as IReadDescriptor).doRead()
          : (descriptor as IWriteDescriptor).doWrite();
        if (result) reason = asError(result);
      }
    } catch (error) {
      return this.loseBrokenDescriptor(descriptor, error);
    }
    if (reason !== undefined) this.disconnect(descriptor, reason);
  }

  /**
   * A descriptor threw (from `fileno()`, `doRead` or `doWrite`): report that, with its
   * log prefix, and disconnect it with what was thrown as the reason.
   *
   * @param descriptor the descriptor
   * @param error what it threw
   */
  protected loseBrokenDescriptor(descriptor: IFileDescriptor, error: unknown): void {
    this.reportError(error, logPrefixOf(descriptor));
    this.disconnect(descriptor, asError(error));
  }

  /**
   * Stop watching a descriptor for reading and writing and call its
   * `connectionLost(reason)` (errors from it are reported).
   *
   * @param descriptor the descriptor
   * @param reason why it ended
   */
  protected disconnect(descriptor: IFileDescriptor, reason: Error): void {
    this.#forget(descriptor);
    this.#tellLost(descriptor, reason);
  }

  /** Calls `descriptor.connectionLost(reason)`; what it throws is reported, not thrown. */
  #tellLost(descriptor: IFileDescriptor, reason: Error): void {
    if (tracing) return this.#tracedTellLost(descriptor, reason);
    try {
      descriptor.connectionLost(reason);
    } catch (error) {
      this.reportError(error, logPrefixOf(descriptor));
    }
  }

  /** `#tellLost`, recorded as a `connectionLost` callback before any error is reported. */
  #tracedTellLost(descriptor: IFileDescriptor, reason: Error): void {
    const fd = fdOf(descriptor);
    const start = nowUs();
    let threw: { error: unknown } | undefined;
    try {
      descriptor.connectionLost(reason);
    } catch (error) {
      threw = { error };
    }
    traceDescriptorCall(descriptor, fd, "connectionLost", start, reason, threw);
    if (threw) this.reportError(threw.error, logPrefixOf(descriptor));
  }

  /**
   * Report an error nobody caught, on {@linkcode writeErrorReport}.
   *
   * @param error what was thrown
   * @param logPrefix who was being called, if known
   */
  protected reportError(error: unknown, logPrefix?: string): void {
    if (tracing) {
      traceInstant("unhandledError", "reactor", MAIN_LANE, { logPrefix, error: oneLine(error) });
    }
    this.#writeReport(formatUnhandledError(error, logPrefix));
  }

  /**
   * Run the delayed calls due now, in order, then fire `shutdown` if `stop()`
   * was called. Calls scheduled meanwhile wait for the next round. Whatever
   * one call throws is reported, and the other due calls still run.
   */
  protected runUntilCurrent(): void {
    const calls = this.#calls;
    for (const call of calls.takeDue(this.seconds())) {
      try {
        const result = calls.runTaken(call);
        if (isThenable(result)) {
          Promise.resolve(result).then(undefined, (error) => this.reportError(error));
        }
      } catch (error) {
        this.reportError(error);
      }
    }
    if (this.#justStopped) {
      this.#justStopped = false;
      this.fireSystemEvent("shutdown");
    }
  }

  /**
   * How long the next wait may last: until the next delayed call is due.
   *
   * @returns seconds (0 if a call is due or the reactor is stopping), or null for no limit
   */
  protected timeout(): number | null {
    if (this.#justStopped || !this.#started) return 0;
    const next = this.#calls.nextDueTime();
    if (next === undefined) return null;
    return Math.min(Math.max(0, next - this.seconds()), LONGEST_WAIT_SECONDS);
  }

  // -- private ---------------------------------------------------------------

  #forget(descriptor: IFileDescriptor): void {
    const wasReader = this.readers.delete(descriptor as IReadDescriptor);
    const wasWriter = this.writers.delete(descriptor as IWriteDescriptor);
    if (wasReader || wasWriter) this.descriptorChanged(descriptor);
  }

  /**
   * Record the beginning of a wait (tracing only): the descriptors watched
   * and the timeout. Subclasses call it just before waiting.
   *
   * @param timeout the wait's timeout, seconds, or null
   */
  protected traceWaitBegin(timeout: number | null): void {
    traceBegin("wait", "reactor", {
      readers: fdsOf(this.readers),
      writers: fdsOf(this.writers),
      timeout,
    });
  }

  /**
   * Record the end of a wait (tracing only): the descriptors found ready.
   *
   * @param readable the descriptors ready for reading
   * @param writable the descriptors ready for writing
   */
  protected traceWaitEnd(
    readable: Iterable<IFileDescriptor>,
    writable: Iterable<IFileDescriptor>,
  ): void {
    traceEnd("wait", "reactor", { readable: fdsOf(readable), writable: fdsOf(writable) });
  }

  #addOwnTrigger(phase: EventPhase, event: SystemEvent, f: () => void): void {
    (this.addSystemEventTrigger(phase, event, f) as Trigger).traceKind = undefined;
  }

  /** What was still registered or pending as the loop ended. */
  #traceEnded(): void {
    const holders = (descriptors: Iterable<IFileDescriptor>) =>
      [...descriptors].map((descriptor) => ({
        fd: fdOf(descriptor),
        ...describeTarget(descriptor),
      }));
    const now = this.seconds();
    traceInstant("ended", "reactor", MAIN_LANE, {
      readers: holders(this.readers),
      writers: holders(this.writers),
      delayed: this.#calls.pending().map((call) => ({
        call: call._trace?.id,
        label: call._trace?.label,
        dueInS: call.time - now,
      })),
    });
  }

  #writeReport(report: string): void {
    try {
      this.writeErrorReport(report);
    } catch {
      console.error(report); // a broken report hook must lose neither the report nor the loop
    }
  }

  #addStartTrigger(): void {
    this.#startTriggerPending = true;
    this.#addOwnTrigger("during", "startup", () => this.#reallyStartRunning());
  }

  /** The `during startup` trigger: running from now on, and Ctrl-C stops the reactor. */
  #reallyStartRunning(): void {
    this.#startTriggerPending = false;
    this.#running = true;
    if (this.#started && !this.#listeningForInterrupt) {
      this.#listeningForInterrupt = listenForInterrupt(this.#onInterrupt);
    }
  }

  #stopListeningForInterrupt(): void {
    if (!this.#listeningForInterrupt) return;
    this.#listeningForInterrupt = false;
    stopListeningForInterrupt(this.#onInterrupt);
  }

  #interrupted(): void {
    if (tracing) traceInstant("interrupt", "reactor", MAIN_LANE);
    if (this.#stopped) {
      this.crash();
    } else {
      this.stop();
    }
  }

  async #mainLoop(runNumber: number): Promise<void> {
    let failuresInARow = 0;
    while (this.#started && runNumber === this.#runNumber) {
      try {
        this.runUntilCurrent();
        if (!this.#started) break;
        this.dropLostDescriptors();
        await this.doIteration(this.timeout());
        failuresInARow = 0;
      } catch (error) {
        this.#writeReport("Unexpected error in main loop.");
        this.reportError(error);
        if (++failuresInARow >= 100) {
          this.crash();
          throw error;
        }
      }
    }
    if (tracing) this.#traceEnded();
  }
}

/** A descriptor's number, or -1 when it has none or `fileno()` throws. */
function fdOf(descriptor: IFileDescriptor): number {
  try {
    return descriptor.fileno();
  } catch {
    return -1;
  }
}

function fdsOf(descriptors: Iterable<IFileDescriptor>): number[] {
  const fds: number[] = [];
  for (const descriptor of descriptors) fds.push(fdOf(descriptor));
  return fds;
}

/**
 * `doRead()` (or `doWrite()`) on a ready descriptor, recorded as a `callback` event (what
 * it throws is recorded, then thrown on).
 *
 * @returns the reason to disconnect it that the call returned, if any
 */
function tracedReadOrWrite(
  descriptor: IReadDescriptor | IWriteDescriptor,
  fd: number,
  reading: boolean,
): Error | undefined {
  const start = nowUs();
  let reason: Error | undefined;
  try {
    const result = reading
      ? (descriptor as IReadDescriptor).doRead()
      : (descriptor as IWriteDescriptor).doWrite();
    if (result) reason = asError(result);
  } catch (error) {
    traceDescriptorCall(descriptor, fd, reading, start, undefined, { error });
    throw error;
  }
  traceDescriptorCall(descriptor, fd, reading, start, reason);
  return reason;
}

/**
 * Record a call the reactor made on a descriptor (`doRead`, `doWrite`,
 * `connectionLost`) as a `callback` event.
 */
function traceDescriptorCall(
  descriptor: IFileDescriptor,
  fd: number,
  kind: boolean | "connectionLost",
  start: number,
  reason: Error | undefined,
  threw?: { error: unknown },
): void {
  const method = kind === true ? "doRead" : kind === false ? "doWrite" : "connectionLost";
  const who = describeTarget(descriptor);
  const args: Record<string, unknown> = { kind: method, ...who, fd };
  if (threw !== undefined) {
    args.outcome = "threw";
    args.detail = oneLine(threw.error);
  } else if (method !== "connectionLost" && reason !== undefined) {
    args.outcome = "returned";
    args.detail = oneLine(reason);
  } else {
    args.outcome = "ok";
    if (reason !== undefined) args.detail = oneLine(reason);
  }
  traceComplete(callbackLabel(method, who), "callback", start, args);
}

function logPrefixOf(descriptor: IFileDescriptor): string {
  try {
    return descriptor.logPrefix();
  } catch {
    return "-";
  }
}

/** @returns whether the listener was added */
function listenForInterrupt(listener: () => void): boolean {
  try {
    Deno.addSignalListener("SIGINT", listener);
    return true;
  } catch {
    // No signals here (a worker, say): the reactor just cannot be interrupted.
    return false;
  }
}

function stopListeningForInterrupt(listener: () => void): void {
  try {
    Deno.removeSignalListener("SIGINT", listener);
  } catch {
    // Never added.
  }
}

// -- the installed reactor ---------------------------------------------------

let installedReactor: ReactorBase | undefined;

/**
 * Make `reactor` the program's reactor, the one `mod.ts` exports. Called by
 * `install()` in `select.ts` and `poll.ts`.
 *
 * @example
 * ```ts
 * import { installReactor } from "./base.ts";
 * import { PollReactor } from "./poll.ts";
 * const reactor = installReactor(new PollReactor());
 * ```
 *
 * @param reactor the reactor to install
 * @returns the same reactor
 * @throws {ReactorAlreadyInstalledError} if a reactor is installed already
 */
export function installReactor<R extends ReactorBase>(reactor: R): R {
  if (installedReactor !== undefined) throw new ReactorAlreadyInstalledError();
  installedReactor = reactor;
  return reactor;
}

/**
 * The installed reactor, if any (importing `mod.ts` installs the default).
 *
 * @example
 * ```ts
 * import { getInstalledReactor } from "./base.ts";
 * console.log(getInstalledReactor() === undefined); // true until something installs one
 * ```
 *
 * @returns the reactor, or undefined
 */
export function getInstalledReactor(): ReactorBase | undefined {
  return installedReactor;
}
