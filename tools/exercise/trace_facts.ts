/**
 * What a program did, read from its trace (the event catalogue is `lib/trace/mod.ts`):
 * its delayed calls (scheduled, fired, cancelled, still pending at the end), its
 * counters (chains of delayed calls, each scheduled by the one before), its
 * LoopingCalls' ticks, when its reactor ran and stopped, the errors nobody caught, and
 * the bytes each socket received. The exercise checks judge these facts, never the
 * program's output or source.
 *
 * @example
 * ```ts
 * import { findCounters, traceFacts } from "./trace_facts.ts";
 * import { TraceTail } from "./trace_file.ts";
 *
 * const facts = traceFacts(new TraceTail("/tmp/trace.json").read());
 * for (const counter of findCounters(facts)) console.log(counter.label, counter.intervalS);
 * ```
 *
 * @module
 */

import type { TraceEvent } from "../../lib/trace/mod.ts";

/**
 * One delayed call (a `callLater`), from its `schedule` event on. Times are the trace's
 * µs.
 *
 * @example
 * ```ts
 * import type { DelayedCallFacts } from "./trace_facts.ts";
 * const ranLate = (call: DelayedCallFacts) => (call.lateUs ?? 0) > 100_000;
 * ```
 */
export interface DelayedCallFacts {
  /** Its id in the trace. */
  call: number;
  /** What it calls, as the trace names it (`Countdown.count`). */
  label: string;
  /** The delay asked for, in seconds. */
  delayS: number;
  /** When it was scheduled. */
  scheduledUs: number;
  /** The id of the delayed call (or LoopingCall) that was running when it was scheduled. */
  by?: number;
  /** When it started running, if it ran. */
  firedUs?: number;
  /** When it had run, if it ran. */
  firedEndUs?: number;
  /** How late it ran, µs. */
  lateUs?: number;
  /** When it was cancelled, if it was. */
  cancelledUs?: number;
  /** Seconds it was still due in when the reactor stopped, if it was still pending then. */
  pendingDueInS?: number;
}

/**
 * A callback the reactor made (a `callback` event).
 *
 * @example
 * ```ts
 * import type { CallbackFacts } from "./trace_facts.ts";
 * const threw = (callback: CallbackFacts) => callback.outcome === "threw";
 * ```
 */
export interface CallbackFacts {
  /** Its label: `doRead of PoetrySocket (Task 1)`. */
  name: string;
  /** `doRead`, `delayedCall`, `loopingCall`, ... */
  kind: string;
  /** The delayed call's or LoopingCall's id, for those. */
  call?: number;
  /** When it started, µs. */
  startUs: number;
  /** When it returned, µs. */
  endUs: number;
  /** `ok`, `returned` or `threw`. */
  outcome?: string;
}

/**
 * Everything the checks read from one trace.
 *
 * @example
 * ```ts
 * import { traceFacts } from "./trace_facts.ts";
 * const facts = traceFacts([]);
 * console.log(facts.reactorRan, facts.uncaught); // false []
 * ```
 */
export interface TraceFacts {
  /** Whether a reactor ran (a `run` event). */
  reactorRan: boolean;
  /** When `stop()` was first called, if it was. */
  stopUs?: number;
  /** When the reactor's loop ended, if it did. */
  endedUs?: number;
  /** Every delayed call, in the order scheduled. */
  delayed: DelayedCallFacts[];
  /** Every callback the reactor made, in the order they began. */
  callbacks: CallbackFacts[];
  /** The ticks (start times, µs) of each LoopingCall, by its id (`loop`). */
  loopingCallTicks: Map<number, { name: string; ticksUs: number[] }>;
  /** Errors that reached the top of the program (`uncaught`). */
  uncaught: string[];
  /** Errors the reactor reported as unhandled, with who was being called. */
  unhandled: string[];
  /** The exit status the program recorded, if it recorded its exit. */
  exitCode?: number;
  /** When the program exited, if it recorded its exit. */
  exitUs?: number;
  /** Per descriptor: bytes received, and when the first and last bytes came. */
  received: Map<number, { bytes: number; firstUs: number; lastUs: number }>;
  /** When the last event happened. */
  lastUs: number;
}

const numberOr = (value: unknown): number | undefined =>
  typeof value === "number" ? value : undefined;
const textOr = (value: unknown, otherwise: string): string =>
  typeof value === "string" ? value : otherwise;

/**
 * Reads the facts out of a trace's events.
 *
 * @example
 * ```ts
 * import { traceFacts } from "./trace_facts.ts";
 * const facts = traceFacts([
 *   { name: "run", cat: "reactor", ph: "i", ts: 0, pid: 1, tid: 1 },
 *   { name: "stop", cat: "reactor", ph: "i", ts: 900, pid: 1, tid: 1 },
 * ]);
 * console.log(facts.stopUs); // 900
 * ```
 *
 * @param events the trace, in the file's order
 * @returns what they say
 */
export function traceFacts(events: readonly TraceEvent[]): TraceFacts {
  const facts: TraceFacts = {
    reactorRan: false,
    delayed: [],
    callbacks: [],
    loopingCallTicks: new Map(),
    uncaught: [],
    unhandled: [],
    received: new Map(),
    lastUs: 0,
  };
  const byId = new Map<number, DelayedCallFacts>();
  for (const event of events) {
    const args = event.args ?? {};
    facts.lastUs = Math.max(facts.lastUs, event.ts + (event.dur ?? 0));
    if (event.cat === "reactor" && event.ph === "i") {
      if (event.name === "run") facts.reactorRan = true;
      if (event.name === "stop") facts.stopUs ??= event.ts;
      if (event.name === "ended") {
        facts.endedUs ??= event.ts;
        const pending = Array.isArray(args.delayed) ? args.delayed : [];
        for (const entry of pending as Array<Record<string, unknown>>) {
          const call = byId.get(numberOr(entry?.call) ?? NaN);
          if (call !== undefined) call.pendingDueInS = numberOr(entry.dueInS) ?? 0;
        }
      }
      if (event.name === "unhandledError") {
        const who = typeof args.logPrefix === "string" ? ` (in ${args.logPrefix})` : "";
        facts.unhandled.push(textOr(args.error, "an error") + who);
      }
    } else if (event.cat === "delayed" && event.ph === "i") {
      const call = numberOr(args.call);
      if (call === undefined) continue;
      if (event.name === "schedule") {
        const delayed: DelayedCallFacts = {
          call,
          label: textOr(args.label, "a delayed call"),
          delayS: numberOr(args.delayS) ?? 0,
          scheduledUs: event.ts,
          by: numberOr(args.by),
        };
        byId.set(call, delayed);
        facts.delayed.push(delayed);
      } else if (event.name === "cancel") {
        const delayed = byId.get(call);
        if (delayed !== undefined) delayed.cancelledUs = event.ts;
      }
    } else if (event.cat === "callback" && event.ph === "X") {
      const callback: CallbackFacts = {
        name: event.name,
        kind: textOr(args.kind, "callback"),
        call: numberOr(args.call),
        startUs: event.ts,
        endUs: event.ts + (event.dur ?? 0),
        outcome: typeof args.outcome === "string" ? args.outcome : undefined,
      };
      facts.callbacks.push(callback);
      // A LoopingCall's tick run by its delayed call names that call too.
      if (callback.call !== undefined) {
        const delayed = byId.get(callback.call);
        if (delayed !== undefined && delayed.firedUs === undefined) {
          delayed.firedUs = callback.startUs;
          delayed.firedEndUs = callback.endUs;
          delayed.lateUs = numberOr(args.lateUs);
        }
      }
      if (callback.kind === "loopingCall") {
        const id = numberOr(args.loop) ?? callback.call ?? -1;
        const loop = facts.loopingCallTicks.get(id) ?? { name: callback.name, ticksUs: [] };
        loop.ticksUs.push(callback.startUs);
        facts.loopingCallTicks.set(id, loop);
      }
    } else if (event.cat === "process" && event.name === "uncaught") {
      facts.uncaught.push(textOr(args.error, "an error"));
    } else if (event.cat === "process" && event.name === "exit") {
      facts.exitCode = numberOr(args.code) ?? 0;
      facts.exitUs = event.ts;
    } else if (event.cat === "socket" && event.name === "recv" && event.ph === "i") {
      const fd = numberOr(args.fd);
      const bytes = numberOr(args.bytes) ?? 0;
      if (fd === undefined || bytes === 0) continue;
      const seen = facts.received.get(fd) ?? { bytes: 0, firstUs: event.ts, lastUs: event.ts };
      seen.bytes += bytes;
      seen.lastUs = event.ts;
      facts.received.set(fd, seen);
    }
  }
  // The callbacks are recorded when they end; a nested one ends first.
  facts.callbacks.sort((a, b) => a.startUs - b.startUs);
  return facts;
}

/**
 * A counter: a chain of delayed calls, each scheduled from within the one before
 * (or the delayed calls of one LoopingCall).
 *
 * @example
 * ```ts
 * import type { Counter } from "./trace_facts.ts";
 * const describe = (counter: Counter) =>
 *   `${counter.label}: ${counter.calls.length} calls, every ${counter.intervalS} s`;
 * ```
 */
export interface Counter {
  /** Its delayed calls' label (the most common, when they differ). */
  label: string;
  /** Its delayed calls, in the order scheduled. */
  calls: DelayedCallFacts[];
  /** When each of its calls ran, µs. */
  ticksUs: number[];
  /** The median delay asked for, in seconds: its rate. */
  intervalS: number;
  /** How it ended: its last call ran and scheduled no other; was cancelled (by itself, or from elsewhere); or was still pending. */
  ending: "ran out" | "cancelled by itself" | "cancelled from elsewhere" | "pending";
}

/**
 * The median of some numbers (0 for none).
 *
 * @example
 * ```ts
 * import { median } from "./trace_facts.ts";
 * console.log(median([3, 1, 2])); // 2
 * ```
 *
 * @param values the numbers
 * @returns their median
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = values.toSorted((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * The counters in a trace: every chain of at least `minCalls` delayed calls in which
 * each call was scheduled by the one before. A call that schedules several others ends
 * its chain unless exactly one of them has its own label (a counter that also
 * schedules something else goes on with its own next count); the others start chains
 * of their own. The delayed calls scheduled by one LoopingCall are one counter.
 *
 * @example
 * ```ts
 * import { findCounters, traceFacts } from "./trace_facts.ts";
 * const counters = findCounters(traceFacts([]));
 * console.log(counters.length); // 0
 * ```
 *
 * @param facts the trace's facts
 * @param minCalls the fewest calls that make a counter
 * @returns the counters, in the order their first calls were scheduled
 */
export function findCounters(facts: TraceFacts, minCalls = 2): Counter[] {
  const ids = new Set(facts.delayed.map((call) => call.call));
  const children = new Map<number, DelayedCallFacts[]>();
  const byLoopingCall = new Map<number, DelayedCallFacts[]>();
  const roots: DelayedCallFacts[] = [];
  for (const call of facts.delayed) {
    if (call.by === undefined) roots.push(call);
    else if (ids.has(call.by)) {
      const list = children.get(call.by) ?? [];
      list.push(call);
      children.set(call.by, list);
    } else {
      const list = byLoopingCall.get(call.by) ?? [];
      list.push(call);
      byLoopingCall.set(call.by, list);
    }
  }
  const chains: DelayedCallFacts[][] = [...byLoopingCall.values()];
  for (let index = 0; index < roots.length; index++) {
    const chain = [roots[index]];
    for (;;) {
      const last = chain[chain.length - 1];
      const next = children.get(last.call) ?? [];
      const sameLabel = next.filter((call) => call.label === last.label);
      const chosen = sameLabel.length === 1 ? sameLabel[0] : next.length === 1 ? next[0] : null;
      for (const call of next) if (call !== chosen) roots.push(call);
      if (chosen === null) break;
      chain.push(chosen);
    }
    chains.push(chain);
  }
  return chains
    .filter((chain) => chain.length >= minCalls)
    .map(asCounter)
    .sort((a, b) => a.calls[0].scheduledUs - b.calls[0].scheduledUs);
}

function asCounter(calls: DelayedCallFacts[]): Counter {
  const last = calls[calls.length - 1];
  let ending: Counter["ending"] = "ran out";
  if (last.pendingDueInS !== undefined) ending = "pending";
  else if (last.cancelledUs !== undefined) {
    ending = cancelledFromWithin(calls, last.cancelledUs)
      ? "cancelled by itself"
      : "cancelled from elsewhere";
  } else if (last.firedUs === undefined) ending = "pending";
  const labels = new Map<string, number>();
  for (const call of calls) labels.set(call.label, (labels.get(call.label) ?? 0) + 1);
  return {
    label: [...labels.entries()].reduce((a, b) => (b[1] > a[1] ? b : a))[0],
    calls,
    ticksUs: calls.flatMap((call) => call.firedUs ?? []),
    intervalS: median(calls.map((call) => call.delayS)),
    ending,
  };
}

/** Whether the cancel at `atUs` happened inside one of the chain's own calls. */
function cancelledFromWithin(calls: DelayedCallFacts[], atUs: number): boolean {
  return calls.some((call) =>
    call.firedUs !== undefined && call.firedEndUs !== undefined && call.firedUs <= atUs &&
    atUs <= call.firedEndUs
  );
}

/**
 * When the reactor began to wait with nothing to wait for (no descriptor watched, no
 * delayed call pending: a `wait` with no readers, no writers and no timeout), if that
 * wait is the last thing in the trace: a program stuck there runs for ever, unless
 * something outside the reactor wakes it.
 *
 * @example
 * ```ts
 * import { idleSinceUs } from "./trace_facts.ts";
 * const wait = {
 *   name: "wait", cat: "reactor", ph: "B" as const, ts: 70, pid: 1, tid: 1,
 *   args: { readers: [], writers: [], timeout: null },
 * };
 * console.log(idleSinceUs([wait])); // 70
 * ```
 *
 * @param events the trace so far
 * @returns the wait's start, µs, or undefined when the reactor is not idle
 */
export function idleSinceUs(events: readonly TraceEvent[]): number | undefined {
  const last = events.at(-1);
  if (last === undefined || last.name !== "wait" || last.cat !== "reactor" || last.ph !== "B") {
    return undefined;
  }
  const args = last.args ?? {};
  const empty = (value: unknown) => Array.isArray(value) && value.length === 0;
  const idle = empty(args.readers) && empty(args.writers) &&
    (args.timeout === null || args.timeout === undefined);
  return idle ? last.ts : undefined;
}

/**
 * Seconds, for the report: `0.40 s`.
 *
 * @example
 * ```ts
 * import { secondsText } from "./trace_facts.ts";
 * console.log(secondsText(0.4)); // 0.40 s
 * ```
 *
 * @param seconds the duration
 * @returns it, with two decimals
 */
export function secondsText(seconds: number): string {
  return `${seconds.toFixed(2)} s`;
}
