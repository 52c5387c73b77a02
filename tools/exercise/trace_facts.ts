/**
 * What the exercise checks read in the model of a traced run (`tools/trace/read.ts`,
 * made from the events of `lib/trace/mod.ts`), beyond what the model holds itself: the
 * counters (chains of delayed calls, each scheduled by the one before), the ticks of
 * each LoopingCall, the delayed calls still pending when the reactor stopped, and when
 * bytes came on each socket. The checks judge these, never the program's output or
 * source.
 *
 * @example
 * ```ts
 * import { modelOfRun, readTrace } from "../trace/read.ts";
 * import { findCounters } from "./trace_facts.ts";
 *
 * const model = modelOfRun(readTrace("/tmp/trace.json"));
 * for (const counter of findCounters(model)) console.log(counter.label, counter.intervalS);
 * ```
 *
 * @module
 */

import { callbackAround, type DelayedLife, type RunModel } from "../trace/read.ts";

/**
 * The delayed calls still pending when the reactor's loop ended: their ids, each with
 * the seconds it was still due in.
 *
 * @example
 * ```ts
 * import { modelOfRun } from "../trace/read.ts";
 * import { pendingAtEnd } from "./trace_facts.ts";
 * console.log(pendingAtEnd(modelOfRun([])).size); // 0: no reactor, nothing pending
 * ```
 *
 * @param model the run
 * @returns call id to seconds still due in (negative when it was overdue)
 */
export function pendingAtEnd(model: RunModel): Map<number, number> {
  const pending = new Map<number, number>();
  for (const entry of model.reactor?.ended?.delayed ?? []) {
    if (entry.call !== undefined) pending.set(entry.call, entry.dueInS);
  }
  return pending;
}

/**
 * A counter: a chain of delayed calls, each scheduled from within the one before (or
 * the delayed calls of one LoopingCall).
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
  calls: DelayedLife[];
  /** When each of its calls ran, µs. */
  ticksUs: number[];
  /** The median delay asked for, in seconds: its rate. */
  intervalS: number;
  /**
   * How it ended: its last call ran and scheduled no other; was cancelled (from inside
   * one of its own calls, or from elsewhere); or was still pending at the end.
   */
  ending: "ran out" | "cancelled by itself" | "cancelled from elsewhere" | "pending";
  /** Seconds its last call was still due in when the reactor stopped, when pending. */
  dueInS?: number;
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
 * The counters of a run: every chain of at least `minCalls` delayed calls in which
 * each call was scheduled by the one before (the trace's `by`, or a promise's
 * continuation in the wait after it ran: an async counter that awaits a sleep). A call that schedules
 * several others ends its chain unless exactly one of them has its own label (a
 * counter that also schedules something else goes on with its own next count); the
 * others start chains of their own. The delayed calls scheduled by one LoopingCall are
 * one counter.
 *
 * @example
 * ```ts
 * import { modelOfRun } from "../trace/read.ts";
 * import { findCounters } from "./trace_facts.ts";
 * console.log(findCounters(modelOfRun([])).length); // 0
 * ```
 *
 * @param model the run
 * @param minCalls the fewest calls that make a counter
 * @returns the counters, in the order their first calls were scheduled
 */
export function findCounters(model: RunModel, minCalls = 2): Counter[] {
  const calls = model.delayed.toSorted((a, b) => a.scheduledUs - b.scheduledUs);
  const ids = new Set(calls.map((call) => call.call));
  const parents = continuedFrom(model, calls);
  const children = new Map<number, DelayedLife[]>();
  const byLoopingCall = new Map<number, DelayedLife[]>();
  const roots: DelayedLife[] = [];
  for (const call of calls) {
    const parent = parents.get(call.call);
    if (parent === undefined) roots.push(call);
    else {
      const family = ids.has(parent) ? children : byLoopingCall;
      const list = family.get(parent) ?? [];
      list.push(call);
      family.set(parent, list);
    }
  }
  const chains: DelayedLife[][] = [...byLoopingCall.values()];
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
  const pending = pendingAtEnd(model);
  const exitedIn = exitedWhileDue(model);
  return chains
    .filter((chain) => chain.length >= minCalls)
    .map((chain) => asCounter(chain, pending, exitedIn))
    .sort((a, b) => a.calls[0].scheduledUs - b.calls[0].scheduledUs);
}

/**
 * For each delayed call, the call (or LoopingCall) it continues: its `by`, when it was
 * scheduled while that call ran. A call scheduled outside any callback, while the
 * reactor waited, was scheduled by a promise's continuation: `await sleep(0.1)` in an
 * async counter, where `sleep` resolves from a delayed call. Such a continuation runs
 * in the wait that follows the turn whose call resolved it, so it continues one of the
 * calls that ran in that turn and scheduled nothing themselves: the first of them with
 * its label, else the first (continuations run in the order their promises resolved).
 */
function continuedFrom(model: RunModel, calls: readonly DelayedLife[]): Map<number, number> {
  const parents = new Map<number, number>();
  for (const call of calls) if (call.by !== undefined) parents.set(call.call, call.by);
  const continued = new Set(parents.values());
  const fired = calls.filter((call) => call.firedUs !== undefined)
    .sort((a, b) => (a.firedUs ?? 0) - (b.firedUs ?? 0));
  for (const call of calls) {
    if (call.by !== undefined || callbackAround(model.callbacks, call.scheduledUs)) continue;
    const waitIndex = model.waits.findLastIndex((wait) => wait.startUs <= call.scheduledUs);
    if (waitIndex < 0) continue;
    const turnEndUs = model.waits[waitIndex].startUs;
    const turnStartUs = model.waits[waitIndex - 1]?.endUs ?? model.reactor?.runUs ?? 0;
    const candidates = fired.filter((parent) =>
      !continued.has(parent.call) && (parent.firedUs ?? 0) >= turnStartUs &&
      (parent.firedUs ?? 0) <= turnEndUs
    );
    const parent = candidates.find((candidate) => candidate.label === call.label) ??
      candidates[0];
    if (parent === undefined) continue;
    parents.set(call.call, parent.call);
    continued.add(parent.call);
  }
  return parents;
}

/**
 * Whether a delayed call was running when the program exited: a program that ends with
 * `Deno.exit` from inside a delayed call never records that call's end, so a call due
 * before the exit, while a reactor that was never stopped ran on, was the one running.
 */
function exitedWhileDue(model: RunModel): (call: DelayedLife) => boolean {
  const exitUs = model.exit?.atUs;
  return (call) =>
    exitUs !== undefined && model.reactor !== undefined && model.reactor.ended === undefined &&
    dueUnrun(call, exitUs);
}

/** Whether a delayed call was due by `atUs`, yet neither ran nor was cancelled. */
function dueUnrun(call: DelayedLife, atUs: number): boolean {
  return call.firedUs === undefined && call.cancelledUs === undefined && call.dueUs <= atUs;
}

function asCounter(
  calls: DelayedLife[],
  pending: Map<number, number>,
  exitedIn: (call: DelayedLife) => boolean,
): Counter {
  const last = calls[calls.length - 1];
  const dueInS = pending.get(last.call);
  let ending: Counter["ending"] = "ran out";
  if (exitedIn(last)) {
    ending = "ran out"; // it was counting when the program exited: its end, whatever stopped
  } else if (
    dueInS !== undefined || (last.firedUs === undefined && last.cancelledUs === undefined)
  ) {
    ending = "pending";
  } else if (last.cancelledUs !== undefined) {
    ending = cancelledFromWithin(calls, last.cancelledUs)
      ? "cancelled by itself"
      : "cancelled from elsewhere";
  }
  const labels = new Map<string, number>();
  for (const call of calls) labels.set(call.label, (labels.get(call.label) ?? 0) + 1);
  return {
    label: [...labels.entries()].reduce((a, b) => (b[1] > a[1] ? b : a))[0],
    calls,
    ticksUs: calls.flatMap((call) => call.firedUs ?? (exitedIn(call) ? [call.dueUs] : [])),
    intervalS: median(calls.map((call) => call.delayS)),
    ending,
    dueInS,
  };
}

/** Whether the cancel at `atUs` happened inside one of the chain's own calls. */
function cancelledFromWithin(calls: DelayedLife[], atUs: number): boolean {
  return calls.some((call) =>
    call.firedUs !== undefined && call.firedUs <= atUs && atUs <= call.firedUs + (call.durUs ?? 0)
  );
}

/**
 * The ticks of each LoopingCall (its `loopingCall` callbacks), by its id.
 *
 * @example
 * ```ts
 * import { modelOfRun } from "../trace/read.ts";
 * import { loopingCallTicks } from "./trace_facts.ts";
 * console.log(loopingCallTicks(modelOfRun([])).size); // 0
 * ```
 *
 * @param model the run
 * @returns each LoopingCall's id, label (its first tick's) and when each tick began, µs
 */
export function loopingCallTicks(
  model: RunModel,
): Map<number, { id: number; label: string; ticksUs: number[] }> {
  const loops = new Map<number, { id: number; label: string; ticksUs: number[] }>();
  for (const callback of model.callbacks) {
    if (callback.args.kind !== "loopingCall") continue;
    const id = callback.args.loop ?? callback.args.call ?? -1;
    const loop = loops.get(id) ?? { id, label: callback.label, ticksUs: [] };
    loop.ticksUs.push(callback.startUs);
    loops.set(id, loop);
  }
  return loops;
}

/**
 * When bytes came on each socket: from its first `recv` that returned bytes to its
 * last, and how many.
 *
 * @example
 * ```ts
 * import { modelOfRun } from "../trace/read.ts";
 * import { receivingSpans } from "./trace_facts.ts";
 * console.log(receivingSpans(modelOfRun([]))); // []
 * ```
 *
 * @param model the run
 * @returns one span per socket that received bytes, most bytes first
 */
export function receivingSpans(
  model: RunModel,
): { fd: number; bytes: number; firstUs: number; lastUs: number }[] {
  const spans = [];
  for (const lane of model.sockets) {
    const reads = lane.reads.filter((read) => read.bytes > 0);
    if (reads.length === 0) continue;
    spans.push({
      fd: lane.fd,
      bytes: lane.bytesIn,
      firstUs: reads[0].atUs,
      lastUs: reads[reads.length - 1].atUs,
    });
  }
  return spans.sort((a, b) => b.bytes - a.bytes);
}

/**
 * The label of the callback that ran last before `atUs`, for a hint.
 *
 * @example
 * ```ts
 * import { modelOfRun } from "../trace/read.ts";
 * import { lastCallbackBefore } from "./trace_facts.ts";
 * console.log(lastCallbackBefore(modelOfRun([]), 1e6)); // undefined: no callback ran
 * ```
 *
 * @param model the run
 * @param atUs the moment, µs
 * @returns its label, if one ran before then
 */
export function lastCallbackBefore(model: RunModel, atUs: number): string | undefined {
  return model.callbacks.findLast((callback) => callback.startUs <= atUs)?.label;
}

/**
 * The label of the callback the program exited from, at `exitUs`: a delayed call that was
 * due and never recorded its end (a program that calls `Deno.exit` inside a callback
 * ends before the callback does), else the last callback that ran.
 *
 * @example
 * ```ts
 * import { modelOfRun } from "../trace/read.ts";
 * import { callbackExitedFrom } from "./trace_facts.ts";
 * console.log(callbackExitedFrom(modelOfRun([]), 1e6)); // undefined: no callback ran
 * ```
 *
 * @param model the run
 * @param exitUs when it exited, µs
 * @returns that callback's label, if any
 */
export function callbackExitedFrom(model: RunModel, exitUs: number): string | undefined {
  const last = model.callbacks.findLast((callback) => callback.startUs <= exitUs);
  const running = model.delayed.findLast((call) =>
    dueUnrun(call, exitUs) && (last === undefined || call.dueUs >= last.startUs + last.durUs)
  );
  return running?.label ?? last?.label;
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
