/**
 * The account of a traced run, in plain lines for the terminal: where the
 * time went (waiting against callbacks), the longest callbacks, every
 * callback that held the loop for over 100 ms and what became ready or due
 * meanwhile, delayed calls that ran late, and how the run ended.
 *
 * @example
 * ```ts
 * import { accountOf } from "./account.ts";
 * import { modelOfRun } from "./read.ts";
 * console.log(accountOf(modelOfRun([]), { code: 0 }).join("\n"));
 * ```
 *
 * @module
 */

import { type Callback, isEmptyWait, type RunModel, type Wait } from "./read.ts";

/** A callback that held the loop longer than this is named, in µs. */
export const HOLDING_US = 100_000;
/** A delayed call later than this is late, in µs. */
export const LATE_US = 10_000;

/** How the traced program ended, as the tool saw it from outside. */
export interface ProgramEnd {
  /** Its exit status. */
  code: number;
  /** The signal that ended it, if one did. */
  signal?: string | null;
  /** True when Ctrl-C was pressed while it ran. */
  interrupted?: boolean;
}

/**
 * A duration for people: `3.41 s`, `120 ms`, `0.8 ms`.
 *
 * @example
 * ```ts
 * import { durationText } from "./account.ts";
 * console.log(durationText(3_410_000), durationText(120_000), durationText(800)); // 3.41 s 120 ms 0.80 ms
 * ```
 *
 * @param us microseconds
 * @returns the text
 */
export function durationText(us: number): string {
  if (us >= 1_000_000) return `${(us / 1_000_000).toFixed(2)} s`;
  if (us >= 10_000) return `${Math.round(us / 1000)} ms`;
  if (us >= 1_000) return `${(us / 1000).toFixed(1)} ms`;
  return `${(us / 1000).toFixed(2)} ms`;
}

/** A moment of the run, as an offset from its start: `at 1.20 s`. */
function at(run: RunModel, us: number): string {
  return `${((us - run.startUs) / 1_000_000).toFixed(2)} s`;
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/**
 * The callbacks that held the loop over {@linkcode HOLDING_US}, each with
 * what became ready or due while it ran, as sentences.
 *
 * @example
 * ```ts
 * import { holdingSentences } from "./account.ts";
 * import { modelOfRun } from "./read.ts";
 * const run = modelOfRun([
 *   { name: "doRead of PoetrySocket (Task 1)", cat: "callback", ph: "X", ts: 0, dur: 3_410_000, pid: 1, tid: 1, args: { kind: "doRead", fd: 3 } },
 *   { name: "wait", cat: "reactor", ph: "B", ts: 3_410_100, pid: 1, tid: 1, args: { readers: [4, 5], writers: [], timeout: null } },
 *   { name: "wait", cat: "reactor", ph: "E", ts: 3_410_200, pid: 1, tid: 1, args: { readable: [4, 5], writable: [] } },
 * ]);
 * console.log(holdingSentences(run)[0]);
 * // doRead of PoetrySocket (Task 1) held the reactor 3.41 s; meanwhile 2 other readers became ready
 * ```
 *
 * @param run the model of the run
 * @returns one sentence per holding callback, longest first
 */
export function holdingSentences(run: RunModel): string[] {
  const holding = run.callbacks.filter((callback) =>
    callback.topLevel && callback.durUs > HOLDING_US
  );
  return holding.sort((a, b) => b.durUs - a.durUs).map((callback) => {
    const meanwhile = meanwhileOf(run, callback);
    const blocked = blockedIn(run, callback);
    let sentence = `${callback.label} held the reactor ${durationText(callback.durUs)}`;
    if (blocked !== "") sentence += ` (${blocked})`;
    return meanwhile === "" ? sentence : `${sentence}; meanwhile ${meanwhile}`;
  });
}

/** `3.40 s of it blocked in recv`: the blocking socket calls inside a callback. */
function blockedIn(run: RunModel, callback: Callback): string {
  const endUs = callback.startUs + callback.durUs;
  const byName = new Map<string, number>();
  for (const call of run.blocking) {
    if (call.startUs < callback.startUs || call.startUs > endUs) continue;
    const callEnd = Math.min(call.endUs ?? endUs, endUs);
    byName.set(call.name, (byName.get(call.name) ?? 0) + callEnd - call.startUs);
  }
  return [...byName].sort((a, b) => b[1] - a[1])
    .map(([name, us]) => `${durationText(us)} of it blocked in ${name}`).join(", ");
}

/** What became ready or due while a callback held the loop. */
function meanwhileOf(run: RunModel, callback: Callback): string {
  const endUs = callback.startUs + callback.durUs;
  const parts: string[] = [];
  const next = run.waits.find((wait) => wait.startUs >= endUs);
  const own = callback.args.fd;
  if (next !== undefined) {
    const readers = new Set(next.readable.filter((fd) => fd !== own));
    const writers = new Set(next.writable.filter((fd) => fd !== own));
    // Ready at once when the loop came back: they became ready while it was held.
    if ((next.endUs ?? Infinity) - next.startUs < 5_000) {
      if (readers.size > 0) parts.push(`${plural(readers.size, "other reader")} became ready`);
      if (writers.size > 0) parts.push(`${plural(writers.size, "other writer")} became ready`);
    }
  }
  // Descriptors found ready by the same wait, whose turn came only after it.
  const before = run.waits.findLast((wait) => (wait.endUs ?? Infinity) <= callback.startUs);
  const nextStart = next?.startUs ?? Infinity;
  const waitedFor = new Set(
    run.callbacks.filter((other) =>
      other.topLevel && other.startUs >= endUs && other.startUs < nextStart &&
      (other.args.kind === "doRead" || other.args.kind === "doWrite") && other.args.fd !== own &&
      other.args.fd !== undefined && before !== undefined &&
      [...before.readable, ...before.writable].includes(other.args.fd)
    ).map((other) => other.args.fd),
  );
  if (waitedFor.size > 0) {
    parts.push(
      `${plural(waitedFor.size, "other descriptor")} ready at the same time waited for it`,
    );
  }
  const due = run.delayed.filter((life) =>
    life.dueUs >= callback.startUs && life.dueUs < endUs &&
    (life.cancelledUs === undefined || life.cancelledUs > life.dueUs) &&
    life.call !== callback.args.call
  );
  if (due.length > 0) {
    const names = [...new Set(due.map((life) => life.label))].slice(0, 3).join(", ");
    parts.push(`${plural(due.length, "delayed call")} fell due (${names})`);
  }
  return parts.join(", and ");
}

/**
 * The account of a run, line by line.
 *
 * @example
 * ```ts
 * import { accountOf } from "./account.ts";
 * import { modelOfRun } from "./read.ts";
 * const run = modelOfRun([
 *   { name: "run", cat: "reactor", ph: "i", ts: 0, pid: 1, tid: 1, args: { reactor: "SelectReactor" } },
 *   { name: "wait", cat: "reactor", ph: "B", ts: 10, pid: 1, tid: 1, args: { readers: [], writers: [], timeout: null } },
 *   { name: "interrupt", cat: "reactor", ph: "i", ts: 2_000_000, pid: 1, tid: 1 },
 * ]);
 * console.log(accountOf(run, { code: 130, interrupted: true }).join("\n"));
 * ```
 *
 * @param run the model of the run
 * @param end how the program ended, as seen from outside
 * @returns the lines, without newlines
 */
export function accountOf(run: RunModel, end: ProgramEnd): string[] {
  const lines: string[] = [];
  const total = run.endUs - run.startUs;
  if (run.eventCount === 0) {
    lines.push("nothing was recorded: the program ended before it used the reactor or a socket");
  } else if (run.reactor !== undefined) {
    lines.push(...reactorAccount(run));
  } else {
    lines.push(...socketAccount(run, total));
  }
  lines.push(...endingAccount(run, end));
  return lines;
}

function reactorAccount(run: RunModel): string[] {
  const lines: string[] = [];
  const reactor = run.reactor;
  if (reactor === undefined) return lines;
  const loopEnd = reactor.ended?.atUs ?? run.endUs;
  const loopSpan = Math.max(1, loopEnd - reactor.runUs);
  const waiting = sum(run.waits.map((wait) => (wait.endUs ?? loopEnd) - wait.startUs));
  const top = run.callbacks.filter((callback) => callback.topLevel);
  const inCallbacks = sum(top.map((callback) => callback.durUs));
  const percent = (us: number) => `${Math.round((100 * us) / loopSpan)} %`;
  lines.push(
    `the ${reactor.name} ran ${durationText(loopSpan)}: waiting ${durationText(waiting)} ` +
      `(${percent(waiting)}) in ${plural(run.waits.length, "wait")}, in callbacks ` +
      `${durationText(inCallbacks)} (${percent(inCallbacks)}) in ${plural(top.length, "callback")}`,
  );
  const blockedUs = sum(run.blocking.map((call) => (call.endUs ?? loopEnd) - call.startUs));
  if (run.blocking.length > 0) {
    lines.push(
      `blocked in socket calls: ${durationText(blockedUs)} in ${
        plural(run.blocking.length, "call")
      }`,
    );
  }
  const byLabel = new Map<string, { us: number; count: number; longest: number }>();
  for (const callback of top) {
    const entry = byLabel.get(callback.label) ?? { us: 0, count: 0, longest: 0 };
    entry.us += callback.durUs;
    entry.count++;
    entry.longest = Math.max(entry.longest, callback.durUs);
    byLabel.set(callback.label, entry);
  }
  const longest = [...byLabel].sort((a, b) => b[1].longest - a[1].longest).slice(0, 5);
  if (longest.length > 0) {
    lines.push("longest callbacks:");
    for (const [label, entry] of longest) {
      lines.push(
        `  ${label}: longest ${durationText(entry.longest)}` +
          (entry.count > 1 ? `, ${entry.count} calls, ${durationText(entry.us)} in all` : ""),
      );
    }
  }
  const holding = holdingSentences(run);
  if (holding.length === 0) {
    lines.push(`no callback held the loop over ${durationText(HOLDING_US)}`);
  } else {
    lines.push(`callbacks that held the loop over ${durationText(HOLDING_US)}:`);
    for (const sentence of holding.slice(0, 10)) lines.push(`  ${sentence}`);
    if (holding.length > 10) lines.push(`  and ${holding.length - 10} more`);
  }
  lines.push(...delayedAccount(run));
  return lines;
}

function delayedAccount(run: RunModel): string[] {
  const fired = run.delayed.filter((life) => life.firedUs !== undefined);
  if (fired.length === 0) return [];
  const lines: string[] = [];
  const late = fired.filter((life) => (life.lateUs ?? 0) > LATE_US);
  const worst = Math.max(...fired.map((life) => life.lateUs ?? 0));
  lines.push(
    `${plural(fired.length, "delayed call")} ran, ${late.length} of them over ` +
      `${durationText(LATE_US)} late; the latest ${durationText(worst)} late`,
  );
  const shown = fired.length <= 8
    ? fired
    : [...late].sort((a, b) => (b.lateUs ?? 0) - (a.lateUs ?? 0)).slice(0, 5);
  for (const life of shown) {
    lines.push(
      `  ${life.label}: due at ${at(run, life.dueUs)}, ran at ${at(run, life.firedUs ?? 0)}, ` +
        `${durationText(life.lateUs ?? 0)} late`,
    );
  }
  return lines;
}

function socketAccount(run: RunModel, total: number): string[] {
  const lines: string[] = [];
  const blockedUs = sum(run.blocking.map((call) => (call.endUs ?? run.endUs) - call.startUs));
  if (run.blocking.length === 0 && run.sockets.length === 0) {
    lines.push("no reactor ran, and no socket call waited");
    return lines;
  }
  lines.push(
    `no reactor ran; ${durationText(total)} recorded, ${durationText(blockedUs)} of it ` +
      `blocked in ${plural(run.blocking.length, "socket call")}`,
  );
  const byName = new Map<string, number>();
  for (const call of run.blocking) {
    byName.set(call.name, (byName.get(call.name) ?? 0) + (call.endUs ?? run.endUs) - call.startUs);
  }
  for (const [name, us] of [...byName].sort((a, b) => b[1] - a[1])) {
    lines.push(`  in ${name}: ${durationText(us)}`);
  }
  for (const lane of run.sockets) {
    if (lane.bytesIn === 0 && lane.bytesOut === 0) continue;
    lines.push(
      `  fd ${lane.fd}: ${lane.bytesIn} bytes in (${plural(lane.reads.length, "recv")}), ` +
        `${lane.bytesOut} bytes out, from ${at(run, lane.firstUs)} to ` +
        `${at(run, lane.closedUs ?? run.endUs)}`,
    );
  }
  if (run.wouldBlock > 0) lines.push(`  would-block errors: ${run.wouldBlock}`);
  return lines;
}

function endingAccount(run: RunModel, end: ProgramEnd): string[] {
  const lines: string[] = [];
  const reactor = run.reactor;
  if (reactor !== undefined) {
    const ended = reactor.ended;
    const idleAtInterrupt = reactor.interruptUs === undefined
      ? undefined
      : waitAround(run.waits, reactor.interruptUs);
    if (idleAtInterrupt !== undefined && isEmptyWait(idleAtInterrupt)) {
      lines.push(
        `the reactor was interrupted (Ctrl-C) at ${at(run, reactor.interruptUs ?? 0)} while it ` +
          `still ran; from ${at(run, idleAtInterrupt.startUs)} on nothing was watched or ` +
          "pending: no descriptor, no delayed call, so nothing could ever happen again " +
          "(nobody called reactor.stop())",
      );
    } else if (ended !== undefined) {
      const how = reactor.stopUs !== undefined
        ? `stop() was called at ${at(run, reactor.stopUs)}`
        : reactor.crashUs !== undefined
        ? `crash() was called at ${at(run, reactor.crashUs)}`
        : "its loop ended";
      const pending = ended.delayed.map((call) =>
        `${call.label ?? "a delayed call"} was still due in ${call.dueInS.toFixed(1)} s`
      );
      const registered = [...ended.readers, ...ended.writers].map((holder) =>
        `${holder.target ?? holder.logPrefix ?? "a descriptor"}` +
        (holder.task === undefined ? "" : ` (Task ${holder.task})`) +
        ` (fd ${holder.fd}) was still watched`
      );
      if (pending.length === 0 && registered.length === 0) {
        lines.push(`the reactor stopped (${how}) with nothing pending`);
      } else {
        lines.push(`when the reactor stopped (${how}):`);
        for (const line of [...registered, ...pending].slice(0, 10)) lines.push(`  ${line}`);
      }
    } else {
      lines.push(...stillRunning(run, end));
    }
  }
  for (const error of run.unhandled.slice(0, 3)) {
    lines.push(
      `the reactor reported an unhandled error at ${at(run, error.atUs)}` +
        (error.logPrefix ? ` [${error.logPrefix}]` : "") + `: ${error.error}`,
    );
  }
  if (run.unhandled.length > 3) lines.push(`  and ${run.unhandled.length - 3} more`);
  if (run.uncaught !== undefined) {
    lines.push(`an error nobody caught ended the program: ${run.uncaught.error}`);
  }
  if (end.interrupted) {
    lines.push(`the program was interrupted (Ctrl-C) and exited with status ${end.code}`);
  } else if (end.signal) {
    lines.push(`the program was killed by ${end.signal}`);
  } else {
    lines.push(`the program exited with status ${end.code}`);
  }
  return lines;
}

/** The reactor never ended its loop: what it was doing when the program ended. */
function stillRunning(run: RunModel, end: ProgramEnd): string[] {
  const lines: string[] = [];
  const idle = lastIdleStretch(run.waits);
  const why = end.interrupted || run.reactor?.interruptUs !== undefined ? "interrupted" : "ended";
  if (idle !== undefined) {
    lines.push(
      `the program was ${why} while the reactor still ran; from ${at(run, idle.startUs)} on ` +
        "nothing was watched or pending: no descriptor, no delayed call, so nothing could " +
        "ever happen again (nobody called reactor.stop())",
    );
  } else {
    const last = run.waits.at(-1);
    lines.push(
      `the program was ${why} while the reactor still ran` +
        (last === undefined
          ? ""
          : `; it was last waiting on ${plural(last.readers.length, "reader")} and ` +
            `${plural(last.writers.length, "writer")}` +
            (last.timeout === null ? "" : `, timeout ${last.timeout.toFixed(2)} s`)),
    );
  }
  return lines;
}

/** The wait under way at `atUs`, if any. */
function waitAround(waits: readonly Wait[], atUs: number): Wait | undefined {
  return waits.findLast((wait) => wait.startUs <= atUs && (wait.endUs ?? Infinity) >= atUs);
}

/** The last wait, if it watched nothing and never ended (or ended only by an interrupt). */
function lastIdleStretch(waits: readonly Wait[]): Wait | undefined {
  const last = waits.at(-1);
  return last !== undefined && isEmptyWait(last) ? last : undefined;
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
