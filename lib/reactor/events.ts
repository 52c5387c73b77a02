/**
 * System event triggers: the functions registered with `addSystemEventTrigger` for an
 * event such as `shutdown`, run in three phases, `before`, `during` and `after`. A
 * `before` trigger may return a promise: the later phases wait for it.
 *
 * @example
 * ```ts
 * import { ThreePhaseEvent, Trigger } from "./events.ts";
 * const shutdown = new ThreePhaseEvent((error) => console.error(error));
 * shutdown.phases.after.push(new Trigger("after", "shutdown", () => console.log("after"), []));
 * shutdown.phases.before.push(new Trigger("before", "shutdown", () => console.log("before"), []));
 * shutdown.fire(); // before, after
 * ```
 * @module
 */

import type { EventPhase, SystemEvent, TriggerId } from "./interfaces.ts";
import { nowUs, traceComplete, tracing } from "../trace/mod.ts";
import { functionName, oneLine, schedulingSite } from "../trace/names.ts";

/**
 * Call `f(...args)` as a plain function, with no `this`: what the reactor does with every
 * function it is given (a delayed call, a trigger, a LoopingCall's function). A method
 * passed unbound (`reactor.callLater(1, counter.count)`) then fails loudly on its first
 * use of `this`, as Python's unbound method would, instead of running with `this` set to
 * the reactor's own bookkeeping object.
 *
 * @example
 * ```ts
 * import { callPlainly } from "./events.ts";
 * console.log(callPlainly(function (this: unknown, a: unknown) { return [this, a]; }, [1]));
 * // [ undefined, 1 ]
 * ```
 *
 * @param f the function
 * @param args its arguments
 * @returns what it returned
 */
export function callPlainly(f: (...args: never[]) => unknown, args: readonly unknown[]): unknown {
  const plain = f as (...args: unknown[]) => unknown;
  return plain(...args);
}

/**
 * Run `f` as one call the reactor makes, recorded (tracing only) as a `callback` event
 * named `label` that began at `start`: `args` gains its `outcome`, `ok` or `threw` with
 * the error as `detail`; what `f` throws is thrown on.
 *
 * @example
 * ```ts
 * import { tracedCall } from "./events.ts";
 * import { nowUs } from "../trace/mod.ts";
 * const args: Record<string, unknown> = { kind: "trigger" };
 * console.log(tracedCall("tick", nowUs(), args, () => 42), args.outcome); // 42 ok
 * ```
 *
 * @param label the callback's display label
 * @param start when the call began, µs ({@linkcode nowUs})
 * @param args the event's facts, known before the call
 * @param f the call
 * @returns what `f` returned
 */
export function tracedCall<T>(
  label: string,
  start: number,
  args: Record<string, unknown>,
  f: () => T,
): T {
  args.outcome = "ok";
  try {
    return f();
  } catch (error) {
    args.outcome = "threw";
    args.detail = oneLine(error);
    throw error;
  } finally {
    traceComplete(label, "callback", start, args);
  }
}

/**
 * Whether a value is a promise, or promise-like (it has a `then` method): what
 * the reactor and `LoopingCall` wait for when a callback returns it.
 *
 * @example
 * ```ts
 * import { isThenable } from "./events.ts";
 * console.log(isThenable(Promise.resolve(1)), isThenable({ then: () => {} }), isThenable(1));
 * // true true false
 * ```
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === "object" || typeof value === "function") && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}

/** One registered system event trigger; given out as its {@linkcode TriggerId}. */
export class Trigger implements TriggerId {
  /**
   * How the trace records its call: as a `trigger`, as a `whenRunning` call
   * (`callWhenRunning`), or not at all (the reactor's own triggers).
   */
  traceKind: "trigger" | "whenRunning" | undefined = "trigger";
  /** Where it was registered from, read from the stack while tracing. */
  readonly traceSite: string | undefined;

  constructor(
    readonly phase: EventPhase,
    readonly event: SystemEvent,
    readonly func: (...args: never[]) => unknown,
    readonly args: readonly unknown[],
  ) {
    this.traceSite = tracing ? schedulingSite() : undefined;
  }

  call(): unknown {
    if (tracing && this.traceKind !== undefined) return this.#tracedCall(this.traceKind);
    return callPlainly(this.func, this.args);
  }

  #tracedCall(kind: "trigger" | "whenRunning"): unknown {
    const name = functionName(this.func) || this.traceSite || "anonymous";
    const label = kind === "whenRunning" ? name : `${this.phase} ${this.event} trigger ${name}`;
    const args = { kind, event: this.event, phase: this.phase };
    return tracedCall(label, nowUs(), args, () => callPlainly(this.func, this.args));
  }
}

/**
 * The triggers of one system event, in three phases. Firing runs `before`;
 * if some of those returned promises, `during` and `after` wait for all of
 * them. Triggers are used up by firing.
 */
export class ThreePhaseEvent {
  readonly phases: Record<EventPhase, Trigger[]> = { before: [], during: [], after: [] };
  /** True from the start of `before` until `during` starts (promises of `before` included). */
  #firing = false;
  /** The `before` triggers run by the firing under way. */
  #finishedBefore: Trigger[] = [];

  constructor(readonly report: (error: unknown) => void) {}

  fire(): void {
    if (this.#firing) return;
    this.#firing = true;
    this.#finishedBefore = [];
    const waits: Promise<unknown>[] = [];
    const before = this.phases.before;
    while (before.length > 0) {
      const trigger = before.shift() as Trigger;
      this.#finishedBefore.push(trigger);
      try {
        const result = trigger.call();
        if (isThenable(result)) {
          waits.push(Promise.resolve(result).then(undefined, (error) => this.report(error)));
        }
      } catch (error) {
        this.report(error);
      }
    }
    if (waits.length === 0) {
      this.#continueFiring();
    } else {
      void Promise.all(waits).then(() => this.#continueFiring());
    }
  }

  /**
   * Take a trigger out before it runs.
   *
   * @param trigger the trigger
   * @returns `removed`; `already run` for a `before` trigger that this event's
   *   `before` phase, still under way, has run (nothing to remove); `unknown`
   *   for anything else (never added, removed, or run in an earlier phase)
   */
  remove(trigger: Trigger): "removed" | "already run" | "unknown" {
    const list = this.phases[trigger.phase];
    const index = list.indexOf(trigger);
    if (index >= 0) {
      list.splice(index, 1);
      return "removed";
    }
    if (this.#firing && this.#finishedBefore.includes(trigger)) return "already run";
    return "unknown";
  }

  #continueFiring(): void {
    this.#firing = false;
    this.#finishedBefore = [];
    for (const phase of [this.phases.during, this.phases.after]) {
      while (phase.length > 0) {
        const trigger = phase.shift() as Trigger;
        try {
          const result = trigger.call();
          if (isThenable(result)) {
            Promise.resolve(result).then(undefined, (error) => this.report(error));
          }
        } catch (error) {
          this.report(error);
        }
      }
    }
  }
}

/** The phases, in the order they run. */
export const PHASES: readonly EventPhase[] = ["before", "during", "after"];
