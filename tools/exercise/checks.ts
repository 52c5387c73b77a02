/**
 * The checks of the exercises, one function per exercise that can be checked by running
 * the learner's file. Each runs the file traced and judges what it did: its trace (the
 * reactor's delayed calls and callbacks, its sockets' reads, the errors nobody caught)
 * and, for the poetry clients, what the checker's own servers saw. None looks at the
 * file's output. The judgements of the trace are functions of their own
 * (`judgeThreeCounters`, ...), so that they can be tried on made-up traces.
 *
 * @example
 * ```ts
 * import { checkCountdownLoopingCall } from "./checks.ts";
 * import { Report } from "./report.ts";
 *
 * const report = new Report();
 * await checkCountdownLoopingCall(report, "solutions/part-3/countdown-looping.ts", []);
 * Deno.exit(report.finish());
 * ```
 *
 * @module
 */

import { closedPort } from "../process.ts";
import type { Report } from "./report.ts";
import { type LearnerRun, runLearnerFile } from "./run.ts";
import { type ConnectionRecord, WatchedPoetryServer, type WatchedServerSpec } from "./server.ts";
import type { DelayedLife, RunModel, SocketLane } from "../trace/read.ts";
import {
  callbackExitedFrom,
  type Counter,
  findCounters,
  loopingCallTicks,
  median,
  pendingAtEnd,
  receivingSpans,
  secondsText,
} from "./trace_facts.ts";

/**
 * A check of one exercise: it runs the learner's `file` (with `args` first, then the
 * checker's own) and reports into `report`.
 *
 * @example
 * ```ts
 * import type { ExerciseCheck } from "./checks.ts";
 * const nothing: ExerciseCheck = async (report) => report.note("nothing to check");
 * ```
 */
export type ExerciseCheck = (report: Report, file: string, args: string[]) => Promise<void>;

/** How long a countdown may run. */
const COUNTDOWN_LIMIT_MS = 40_000;
/** How soon a countdown's reactor must have begun its loop (it does nothing before). */
const REACTOR_WITHIN_MS = 5000;
/** How long a poetry client may run. */
const CLIENT_LIMIT_MS = 20_000;
/** The time limit of the Part 4 timeout exercise, in seconds: `--timeout 1`. */
const POEM_TIMEOUT_SECONDS = 1;
/** Grace after the last thing a program had to do, before "it ended soon after" fails. */
const GRACE_MS = 1500;
/** How much two counters' delays must differ to count as different rates. */
const DISTINCT_RATIO = 1.15;

const seconds = (ms: number) => secondsText(ms / 1000);
const atTime = (us: number) => secondsText(us / 1e6);

/** The source without its comments, roughly: enough to look for names. */
function sourceWithoutComments(file: string): string {
  return Deno.readTextFileSync(file).replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
}

// -- Part 3 ---------------------------------------------------------------------------

function describeCounter(counter: Counter): string {
  const ran = counter.ticksUs.length;
  return `${counter.label} every ${secondsText(counter.intervalS)}, ${ran} call${
    ran === 1 ? "" : "s"
  } ran`;
}

/** How a delayed call still pending at the end is told: `X was still due in 0.40 s ...`. */
function stillDue(what: string, dueInS: number): string {
  return `${what} was still due in ${secondsText(Math.max(0, dueInS))} when the reactor stopped`;
}

/** The delayed calls among `calls` still pending at the end, told as by {@linkcode stillDue}. */
function stillPending(model: RunModel, calls: readonly DelayedLife[]): string[] {
  const pending = pendingAtEnd(model);
  return calls.flatMap((call) => {
    const dueInS = pending.get(call.call);
    return dueInS === undefined ? [] : [stillDue(call.label, dueInS)];
  });
}

/** The number of clearly different values among `values` (each 15% above the last). */
function distinctRates(values: number[]): number {
  const sorted = values.filter((value) => value > 0).toSorted((a, b) => a - b);
  let distinct = 0;
  let last = 0;
  for (const value of sorted) {
    if (distinct === 0 || value >= DISTINCT_RATIO * last) {
      distinct++;
      last = value;
    }
  }
  return distinct;
}

/** Checks that the reactor was stopped, soon after `lastUs`, the end of the work. */
function checkStoppedSoonAfter(
  report: Report,
  model: RunModel,
  lastUs: number,
  slowestS: number,
  what: string,
): void {
  const stopUs = model.reactor?.stopUs;
  if (stopUs === undefined) {
    const exit = model.exit;
    const inside = exit === undefined ? undefined : callbackExitedFrom(model, exit.atUs);
    report.check(
      false,
      exit === undefined
        ? "the reactor was stopped"
        : `the reactor was stopped (the program exited at ${atTime(exit.atUs)}${
          inside === undefined ? "" : `, after ${inside}`
        }, with its reactor still running)`,
      exit === undefined
        ? "Call reactor.stop() when the last piece of work is done."
        : `Call reactor.stop() where the last piece of work ends${
          inside === undefined ? "" : ` (in ${inside})`
        }, instead of ending the program there: run() then returns, and the program ` +
          "ends by itself.",
    );
    return;
  }
  const afterS = Math.max(0, (stopUs - lastUs) / 1e6);
  report.check(
    afterS <= slowestS + GRACE_MS / 1000,
    `the reactor was stopped ${secondsText(afterS)} after ${what}`,
    "Stop the reactor as soon as the work is over, from the callback that ends it, not on " +
      "a fixed timer.",
  );
}

/**
 * Judges a trace for Part 3, exercise 1: three counters (chains of delayed calls, each
 * scheduled by the one before) at three different rates, running at the same time, each
 * to its end, and the reactor stopped soon after the last, with none of their calls
 * still pending.
 *
 * @example
 * ```ts
 * import { judgeThreeCounters } from "./checks.ts";
 * import { Report } from "./report.ts";
 * import { modelOfRun } from "../trace/read.ts";
 * const report = new Report();
 * judgeThreeCounters(report, modelOfRun([]));
 * console.log(report.passing); // false: no counters
 * ```
 *
 * @param report where to report
 * @param model the run, from its trace
 */
export function judgeThreeCounters(report: Report, model: RunModel): void {
  const counters = findCounters(model);
  const found = counters.map(describeCounter).join("; ");
  if (
    !report.check(
      counters.length >= 3,
      `three counters, chains of delayed calls each made by the one before (found ${counters.length}${
        found ? `: ${found}` : ""
      })`,
      model.reactor !== undefined
        ? "Each counter schedules its own next count with reactor.callLater, from inside " +
          "the call that counts. Start from basic/countdown.ts and make three Countdown objects."
        : "No reactor ran: start from basic/countdown.ts, which runs one.",
    )
  ) return;
  const intervals = counters.map((counter) => counter.intervalS);
  report.check(
    distinctRates(intervals) >= 3,
    `at three different rates (every ${intervals.map(secondsText).join(", ")})`,
    "Give each counter its own interval in callLater, such as 1 s, 0.5 s and 0.3 s.",
  );
  const overlap = counters.every((a) =>
    counters.every((b) => a === b || (a.calls[0].scheduledUs < (b.ticksUs.at(-1) ?? 0)))
  );
  report.check(
    overlap,
    overlap
      ? "running at the same time: their calls interleaved"
      : "they ran one after another, not at the same time",
    "Start all three before the reactor runs (callWhenRunning), not each when the last ends.",
  );
  const unfinished = counters.filter((counter) => counter.ending === "pending");
  const interrupted = counters.filter((counter) => counter.ending === "cancelled from elsewhere");
  const why = [
    ...unfinished.map((counter) =>
      stillDue(`${counter.label} (every ${secondsText(counter.intervalS)})`, counter.dueInS ?? 0)
    ),
    ...interrupted.map((counter) => `${counter.label} was cancelled by another callback`),
  ];
  report.check(
    why.length === 0,
    why.length === 0
      ? "each counted to its end: the reactor stopped with no count pending"
      : `each counted to its end (${why.join("; ")})`,
    "The reactor stopped while a counter was still counting. Stop it only when the last " +
      "counter has finished: keep a count of the counters still running, and let the last " +
      "one to finish call reactor.stop().",
  );
  const lastUs = Math.max(...counters.map((counter) => counter.ticksUs.at(-1) ?? 0));
  checkStoppedSoonAfter(report, model, lastUs, Math.max(...intervals), "the last count");
}

/**
 * Part 3, exercise 1: runs the file, then {@linkcode judgeThreeCounters}.
 *
 * @example
 * ```ts
 * import { checkThreeCounters } from "./checks.ts";
 * import { Report } from "./report.ts";
 * await checkThreeCounters(new Report(), "solutions/part-3/countdowns.ts", ["--scale", "0.2"]);
 * ```
 *
 * @param report where to report
 * @param file the learner's file
 * @param args arguments for it
 */
export async function checkThreeCounters(
  report: Report,
  file: string,
  args: string[],
): Promise<void> {
  await checkCountdown(report, file, args, judgeThreeCounters);
}

/**
 * Runs a Part 3 answer (a countdown: no servers, a reactor that must start soon), then
 * judges its trace with `judge`, unless the run was stopped (that was said already, with
 * its hint).
 */
async function checkCountdown(
  report: Report,
  file: string,
  args: string[],
  judge: (report: Report, model: RunModel) => void,
): Promise<void> {
  const run = await runLearnerFile(report, file, args, COUNTDOWN_LIMIT_MS, {
    reactorWithinMs: REACTOR_WITHIN_MS,
  });
  if (run.stoppedBecause === undefined) judge(report, run.model);
}

/**
 * Judges a trace for Part 3, exercise 2: a LoopingCall ran (three ticks or more),
 * however it was imported or made, and the reactor stopped soon after its last tick,
 * with nothing left pending.
 *
 * @example
 * ```ts
 * import { judgeLoopingCall } from "./checks.ts";
 * import { Report } from "./report.ts";
 * import { modelOfRun } from "../trace/read.ts";
 * const report = new Report();
 * judgeLoopingCall(report, modelOfRun([]));
 * console.log(report.passing); // false: no LoopingCall ran
 * ```
 *
 * @param report where to report
 * @param model the run, from its trace
 */
export function judgeLoopingCall(report: Report, model: RunModel): void {
  const loops = [...loopingCallTicks(model).values()].sort((a, b) =>
    b.ticksUs.length - a.ticksUs.length
  );
  const busiest = loops[0];
  const ticks = busiest?.ticksUs ?? [];
  const intervalS = ticks.length >= 2
    ? median(ticks.slice(1).map((at, index) => (at - ticks[index]) / 1e6))
    : median(model.delayed.filter((call) => call.loop === busiest?.id).map((call) => call.delayS));
  if (
    !report.check(
      ticks.length >= 3,
      busiest === undefined
        ? "a LoopingCall ran (none did)"
        : `a LoopingCall ran: ${busiest.label}, ${ticks.length} time${
          ticks.length === 1 ? "" : "s"
        }${intervalS > 0 ? `, every ${secondsText(intervalS)}` : ""}`,
      busiest === undefined
        ? "Make a LoopingCall (from lib/reactor/task.ts, or lib/reactor/mod.ts) with the " +
          "function that counts, and start it with the interval: it replaces the callLater " +
          "in count. It should run at least three times."
        : `${busiest.label} ran only ${ticks.length} time${
          ticks.length === 1 ? "" : "s"
        }: it was stopped (its stop()) before the count was over. Call stop() only ` +
          "once the count reaches its end; it should run at least three times.",
    )
  ) return;
  const pending = stillPending(model, model.delayed);
  report.check(
    pending.length === 0,
    pending.length === 0
      ? "it stopped after its count: nothing was pending when the reactor stopped"
      : `it stopped after its count (${pending.join("; ")})`,
    "Stop the LoopingCall (its stop()) when the count is over, then the reactor.",
  );
  checkStoppedSoonAfter(report, model, ticks[ticks.length - 1], intervalS, "its last call");
}

/**
 * Part 3, exercise 2: runs the file, then {@linkcode judgeLoopingCall}.
 *
 * @example
 * ```ts
 * import { checkCountdownLoopingCall } from "./checks.ts";
 * import { Report } from "./report.ts";
 * await checkCountdownLoopingCall(new Report(), "basic/countdown.ts", []); // fails
 * ```
 *
 * @param report where to report
 * @param file the learner's file
 * @param args arguments for it
 */
export async function checkCountdownLoopingCall(
  report: Report,
  file: string,
  args: string[],
): Promise<void> {
  await checkCountdown(report, file, args, judgeLoopingCall);
}

// -- the poetry clients -------------------------------------------------------------

/** Starts the checker's servers and says so; they are closed by `withServers`. */
async function withServers(
  report: Report,
  specs: WatchedServerSpec[],
  body: (servers: WatchedPoetryServer[]) => Promise<void>,
): Promise<void> {
  const servers = specs.map((spec) => WatchedPoetryServer.start(spec));
  try {
    for (const server of servers) {
      report.note(
        `server on port ${server.port}: ${server.spec.poetryFile}, ${server.poem.length} bytes, ` +
          `${server.chunkBytes} every ${server.spec.delay} s (${
            seconds(server.poemSeconds * 1000)
          } in all)`,
      );
    }
    await body(servers);
  } finally {
    await Promise.all(servers.map((server) => server.close()));
  }
}

/**
 * When the work of a poetry client was over, as the servers saw it: every server
 * connected to, and each of its connections over (the poem sent whole, or the client
 * gone); undefined until then.
 */
function poemsOverAt(servers: readonly WatchedPoetryServer[]): number | undefined {
  let latest = 0;
  for (const server of servers) {
    if (server.connections.length === 0) return undefined;
    for (const record of server.connections) {
      const over = Math.min(record.sentAllAt ?? Infinity, record.clientClosedAt ?? Infinity);
      if (over === Infinity) return undefined;
      latest = Math.max(latest, over);
    }
  }
  return latest;
}

/**
 * The connection that read the poem to the end, if one did (a client may have tried more
 * than once); otherwise the first, if any.
 */
function mainConnection(server: WatchedPoetryServer): ConnectionRecord | undefined {
  return server.connections.find((record) => readToTheEnd(record, server.poem.length)) ??
    server.connections.at(0);
}

/** Whether the client read the poem to the end: all sent, and it stayed until the server closed. */
function readToTheEnd(record: ConnectionRecord | undefined, poemBytes: number): boolean {
  return record !== undefined && record.bytesSent === poemBytes && record.sentAllAt !== null &&
    !record.reset && (record.clientClosedAt === null || record.clientClosedAt >= record.sentAllAt);
}

/** Checks that the client read this server's poem to the end. */
function checkPoemRead(report: Report, server: WatchedPoetryServer): boolean {
  const record = mainConnection(server);
  const bytes = server.poem.length;
  let seen: string;
  if (record === undefined) seen = "the client never connected";
  else if (record.reset) {
    seen = `the client left with bytes unread (${record.bytesSent} of ${bytes} sent)`;
  } else if (record.sentAllAt === null) {
    seen = `the client left after ${record.bytesSent} of ${bytes} bytes`;
  } else seen = `all ${bytes} bytes sent, and the client stayed until the server closed`;
  return report.check(
    readToTheEnd(record, bytes),
    `port ${server.port}: the poem read to the end (${seen})`,
    record === undefined
      ? "It never connected here: did it stop (or crash) before this port? See the " +
        "command it was run with, and its stderr, above."
      : "Keep reading until the server closes the connection (recv gives an empty array), " +
        "and do not end the program before every poem is in.",
  );
}

/** Checks that the program ended soon after `lastEventAt`. */
function checkEndsSoonAfter(report: Report, run: LearnerRun, lastEventAt: number, what: string) {
  if (run.stoppedBecause !== undefined) return; // said already, with what kept it going
  const after = run.endedAt - lastEventAt;
  report.check(
    !run.timedOut && after <= GRACE_MS + 500,
    `it ended ${seconds(Math.max(0, after))} after ${what}`,
    "Stop the reactor as soon as the last download ends, in whichever way it ended.",
  );
}

/**
 * Part 4, exercise 1: a refused connection does not crash the client. Two live servers
 * and a port that refuses connections, in between; the live poems must be read to the
 * end, and the program end with exit status 0 and no stack trace.
 *
 * @example
 * ```ts
 * import { checkSurvivesRefusal } from "./checks.ts";
 * import { Report } from "./report.ts";
 * await checkSurvivesRefusal(new Report(), "solutions/part-4/get-poetry-robust.ts", []);
 * ```
 *
 * @param report where to report
 * @param file the learner's file
 * @param args arguments for it, before the ports
 */
export async function checkSurvivesRefusal(
  report: Report,
  file: string,
  args: string[],
): Promise<void> {
  const specs = [
    { poetryFile: "poetry/science.txt", delay: 0.01 },
    { poetryFile: "poetry/fascination.txt", delay: 0.01 },
  ];
  await withServers(report, specs, async ([first, second]) => {
    const refused = closedPort();
    report.note(`port ${refused}: nothing listens there, so connecting is refused`);
    const ports = [first.port, refused, second.port].map(String);
    const run = await runLearnerFile(report, file, [...args, ...ports], CLIENT_LIMIT_MS, {
      workOverAt: () => poemsOverAt([first, second]),
    });
    const bothRead = [first, second].map((server) => checkPoemRead(report, server));
    if (bothRead.every(Boolean)) {
      const lastSent = Math.max(
        ...[first, second].map((server) => mainConnection(server)?.sentAllAt ?? 0),
      );
      checkEndsSoonAfter(report, run, lastSent, "the last poem");
    }
  });
}

/**
 * Part 4, exercise 2: `--timeout S` gives up on a poem slower than S seconds. One slow
 * server between two fast ones; the slow poem must be given up about S seconds in, the
 * fast ones read to the end, and the program end soon after.
 *
 * @example
 * ```ts
 * import { checkGivesUp } from "./checks.ts";
 * import { Report } from "./report.ts";
 * await checkGivesUp(new Report(), "solutions/part-4/get-poetry-timeout.ts", []);
 * ```
 *
 * @param report where to report
 * @param file the learner's file
 * @param args arguments for it, before `--timeout S` and the ports
 */
export async function checkGivesUp(report: Report, file: string, args: string[]): Promise<void> {
  const specs = [
    { poetryFile: "poetry/science.txt", chunkBytes: 50, delay: 0.01 },
    { poetryFile: "poetry/ecstasy.txt", chunkBytes: 30, delay: 0.06 },
    { poetryFile: "poetry/fascination.txt", chunkBytes: 50, delay: 0.01 },
  ];
  await withServers(report, specs, async ([fast, slow, otherFast]) => {
    const ports = [fast.port, slow.port, otherFast.port].map(String);
    const timeout = String(POEM_TIMEOUT_SECONDS);
    const run = await runLearnerFile(
      report,
      file,
      [...args, "--timeout", timeout, ...ports],
      CLIENT_LIMIT_MS,
      { exitZero: false, workOverAt: () => poemsOverAt([fast, slow, otherFast]) },
    );
    checkPoemRead(report, fast);
    checkPoemRead(report, otherFast);
    const timeouts = findTimeouts(run.model, POEM_TIMEOUT_SECONDS);
    const record = slow.connections.at(0);
    const closedAt = record?.clientClosedAt ?? null;
    const after = record !== undefined && closedAt !== null ? closedAt - record.acceptedAt : null;
    const limitMs = POEM_TIMEOUT_SECONDS * 1000;
    const inTime = after !== null && record?.sentAllAt === null && after >= 0.6 * limitMs &&
      after <= limitMs + 1000;
    report.check(
      inTime,
      `port ${slow.port}: the slow poem given up about ${timeout} s in (${
        record === undefined
          ? "the client never connected"
          : record.sentAllAt !== null
          ? "it was read to the end instead"
          : after === null
          ? "the client never closed the connection"
          : `the client closed it ${seconds(after)} in, after ${record.bytesSent} bytes`
      })`,
      record === undefined
        ? "It is run as: FILE [ARGS] --timeout S PORT PORT PORT; does it read --timeout?"
        : whyNotGivenUp(timeouts, run.model),
    );
    if (inTime && closedAt !== null) checkEndsSoonAfter(report, run, closedAt, "giving up");
    const givenUp = [fast, slow, otherFast].flatMap((server) => server.connections)
      .filter((connection) => connection.sentAllAt === null && connection.clientClosedAt !== null)
      .length;
    judgeTimeouts(report, run.model, POEM_TIMEOUT_SECONDS, givenUp);
  });
}

/** Whether a span of seconds is about the time limit: between half and one and a half times it. */
function aboutTheLimit(spanS: number, limitS: number): boolean {
  return spanS >= 0.5 * limitS && spanS <= 1.5 * limitS;
}

/**
 * The timeouts of a run: its delayed calls set to fire about the time limit after they
 * were made, or after a `reset`/`delay` of theirs (a call made with another delay, then
 * reset to the limit once connected, is a timeout too).
 */
function findTimeouts(model: RunModel, limitS: number): DelayedLife[] {
  return model.delayed.filter((call) =>
    aboutTheLimit(call.delayS, limitS) ||
    call.resets.some((reset) => aboutTheLimit((reset.dueUs - reset.atUs) / 1e6, limitS))
  );
}

/**
 * How many of the timeouts that fired did so on a poem already finished. Each timeout
 * that fired is matched, in the order they fired, with a socket still receiving at that
 * moment (open, and not yet at the end of its poem), the one that closed soonest after;
 * one left without such a socket fired on a finished poem. Without sockets in the trace
 * (Deno's own are not traced), the servers' count decides: timeouts fired beyond the
 * downloads given up.
 */
function firedOnFinishedPoems(
  model: RunModel,
  fired: readonly DelayedLife[],
  givenUp: number,
): number {
  const receiving = model.sockets.filter((lane) => lane.bytesIn > 0);
  if (receiving.length === 0) return fired.length - givenUp;
  const endOf = (lane: SocketLane): number => {
    const end = lane.events.find((event) => event.name === "recv" && event.args?.bytes === 0);
    return Math.min(end?.ts ?? Infinity, lane.closedUs ?? Infinity);
  };
  const matched = new Set<SocketLane>();
  let extra = 0;
  for (const call of fired.toSorted((a, b) => (a.firedUs ?? 0) - (b.firedUs ?? 0))) {
    const at = call.firedUs ?? 0;
    const open = receiving.filter((lane) =>
      !matched.has(lane) && lane.firstUs <= at && endOf(lane) >= at
    ).sort((a, b) => endOf(a) - endOf(b));
    if (open.length === 0) extra++;
    else matched.add(open[0]);
  }
  return extra;
}

/** A timeout's name for a hint: `Closing.timeout (mine/x.ts:12)`, or its label. */
function timeoutName(call: DelayedLife): string {
  return call.from !== undefined && call.from !== call.label
    ? `${call.label} (made at ${call.from})`
    : call.label;
}

/** What to say of delayed calls made for about a thousand times the limit: milliseconds. */
function inMilliseconds(model: RunModel, limitS = POEM_TIMEOUT_SECONDS): string | undefined {
  const thousandfold = model.delayed.find((call) => aboutTheLimit(call.delayS / 1000, limitS));
  return thousandfold === undefined ? undefined : `${timeoutName(thousandfold)} was made with ` +
    `callLater(${thousandfold.delayS}, ...): callLater counts seconds, not milliseconds.`;
}

/**
 * The hint for a slow poem that was not given up, from what its timeouts did: none
 * made, all cancelled before they could fire, pushed back by reset/delay on every read,
 * or fired without closing anything.
 */
function whyNotGivenUp(timeouts: readonly DelayedLife[], model: RunModel): string {
  const giveUp = "when it fires, close that socket and remove it from the reactor " +
    "(removeReader, then connectionLost).";
  if (timeouts.length === 0) {
    return (inMilliseconds(model) ?? "No callLater of about the time limit was made.") +
      ` Call callLater(timeout, ...) when each download starts; ${giveUp}`;
  }
  const first = timeouts[0];
  const fired = timeouts.filter((call) => call.firedUs !== undefined);
  if (fired.length > 0) {
    return `${timeoutName(fired[0])} fired at ${
      atTime(fired[0].firedUs ?? 0)
    }, but the poem went on: ${giveUp}`;
  }
  const pushed = timeouts.filter((call) => call.resets.length >= 2);
  if (pushed.length > 0) {
    const most = pushed.reduce((a, b) => (b.resets.length > a.resets.length ? b : a));
    return `${timeoutName(most)} was put off ${most.resets.length} times (reset or delay ` +
      "as bytes came), so it never fired while the poem kept trickling in: a timeout for " +
      "the whole poem counts from when the download starts; do not move it on each read.";
  }
  const cancelled = timeouts.filter((call) => call.cancelledUs !== undefined);
  if (cancelled.length === timeouts.length) {
    const lastCancel = Math.max(...cancelled.map((call) => call.cancelledUs ?? 0));
    const firstEnd = Math.min(
      ...model.sockets.filter((lane) => lane.bytesIn > 0).map((lane) => lane.closedUs ?? Infinity),
    );
    const early = lastCancel < firstEnd;
    return `Every timeout (${timeoutName(first)}, ${timeouts.length} made) was cancelled${
      early ? `, the last at ${atTime(lastCancel)}, before any poem had ended` : ""
    }, so none could fire: cancel a poem's timeout only when that poem ends (in its ` +
      "connectionLost), and leave the slow poem's to fire.";
  }
  return `${timeoutName(first)} never fired, though the poem took longer: ${giveUp}`;
}

/**
 * Judges a trace for Part 4, exercise 2: the timeouts (delayed calls of about the time
 * limit, between half and one and a half times it) fired only for poems given up, and
 * every other one was cancelled: none fired on a finished poem, none was left pending
 * when the reactor stopped.
 *
 * @example
 * ```ts
 * import { judgeTimeouts } from "./checks.ts";
 * import { Report } from "./report.ts";
 * import { modelOfRun } from "../trace/read.ts";
 * const report = new Report();
 * judgeTimeouts(report, modelOfRun([]), 1, 1);
 * console.log(report.passing); // false: no timeout at all
 * ```
 *
 * @param report where to report
 * @param model the run, from its trace
 * @param limitS the time limit given with --timeout, seconds
 * @param givenUp how many downloads the servers saw given up (closed before the end)
 */
export function judgeTimeouts(
  report: Report,
  model: RunModel,
  limitS: number,
  givenUp: number,
): void {
  const timeouts = findTimeouts(model, limitS);
  const milliseconds = inMilliseconds(model, limitS);
  if (
    !report.check(
      timeouts.length > 0,
      timeouts.length > 0
        ? `a timeout: a callLater of about ${limitS} s (${timeouts.length} made)`
        : `a timeout: a callLater of about ${limitS} s (${
          model.reactor !== undefined ? "none was made" : "no reactor ran"
        })`,
      (milliseconds === undefined ? "" : `${milliseconds} `) +
        "Call reactor.callLater(timeout, ...) when each download starts, and keep what it " +
        "returns: an IDelayedCall, with cancel().",
    )
  ) return;
  const fired = timeouts.filter((call) => call.firedUs !== undefined);
  const cancelled = timeouts.filter((call) => call.cancelledUs !== undefined);
  const pending = stillPending(model, timeouts);
  const labels = [...new Set(timeouts.map((call) => call.label))].join(", ");
  report.note(
    `timeouts (${labels}): ${timeouts.length} made, ${fired.length} fired, ` +
      `${cancelled.length} cancelled, ${pending.length} still pending at the end; ` +
      `${givenUp} download${givenUp === 1 ? "" : "s"} given up`,
  );
  const extra = firedOnFinishedPoems(model, fired, givenUp);
  report.check(
    extra <= 0,
    extra <= 0
      ? "no timeout fired on a finished poem"
      : `${extra} timeout${extra === 1 ? "" : "s"} fired on a finished poem: ${fired.length} ` +
        `fired (${
          fired.map((call) => `${call.label} at ${atTime(call.firedUs ?? 0)}`).join(", ")
        })` +
        `, for ${givenUp} poem${givenUp === 1 ? "" : "s"} given up`,
    "When a poem ends in time, cancel its timeout: call cancel() on what callLater " +
      "returned, in connectionLost, so that it never fires.",
  );
  report.check(
    pending.length === 0,
    pending.length === 0
      ? "every other timeout cancelled: none pending when the reactor stopped"
      : `every other timeout cancelled (${pending.join("; ")})`,
    "Cancel each timeout when its poem ends, so no call is left waiting in the reactor.",
  );
}

/**
 * Whether a source defines a `getPoetry` (or `get_poetry`), and whether that one can
 * answer later: it takes a callback (more than one parameter) or returns a promise
 * (`async`, or `Promise` in its signature or body). A rough reading of the text, enough
 * to point a learner the right way; what the function does is checked by running it.
 *
 * @example
 * ```ts
 * import { getPoetryShape } from "./checks.ts";
 * getPoetryShape("function getPoetry(address, callback) {}"); // defined, asynchronous
 * getPoetryShape("function getPoetry(address) { return text; }"); // defined, not asynchronous
 * ```
 *
 * @param source the program's text, comments removed
 * @returns whether it is defined, and whether it takes a callback or returns a promise
 */
export function getPoetryShape(source: string): { defined: boolean; asynchronous: boolean } {
  const match =
    /(async\s+)?(?:function\s*\*?\s*(?:getPoetry|get_poetry)\b|(?:const|let|var)\s+(?:getPoetry|get_poetry)\s*(?::[^=]+)?=\s*(async\s+)?(?:function\b)?|^\s*(?:async\s+)?(?:getPoetry|get_poetry)\s*\()/m
      .exec(source);
  if (match === null) return { defined: false, asynchronous: false };
  const rest = source.slice(match.index);
  const open = rest.indexOf("(");
  let depth = 0;
  let close = open;
  for (; close < rest.length; close++) {
    if (rest[close] === "(") depth++;
    if (rest[close] === ")" && --depth === 0) break;
  }
  const parameters = rest.slice(open + 1, close);
  const topLevelCommas = parameters.replace(/\([^()]*\)|<[^<>]*>|\{[^{}]*\}|\[[^[\]]*\]/g, "")
    .split(",").filter((part) => part.trim() !== "").length;
  const after = rest.slice(close, close + 3000);
  const end = after.search(/\n\}/); // the end of a top-level function
  const body = end >= 0 ? after.slice(0, end) : after;
  const asynchronous = /\basync\b/.test(match[0]) || topLevelCommas >= 2 ||
    /\bPromise\b/.test(body);
  return { defined: true, asynchronous };
}

/**
 * Part 2, exercise 3: a `getPoetry` that takes a callback or returns a promise, used to
 * fetch three poems at once: the three connections open together, every poem read to
 * the end, in about the slowest server's time rather than the sum.
 *
 * @example
 * ```ts
 * import { checkAsyncGetPoetry } from "./checks.ts";
 * import { Report } from "./report.ts";
 * await checkAsyncGetPoetry(new Report(), "solutions/part-2/get-poetry-promise.ts", []);
 * ```
 *
 * @param report where to report
 * @param file the learner's file
 * @param args arguments for it, before the ports
 */
export async function checkAsyncGetPoetry(
  report: Report,
  file: string,
  args: string[],
): Promise<void> {
  const { defined, asynchronous } = getPoetryShape(sourceWithoutComments(file));
  report.check(
    defined && asynchronous,
    defined
      ? asynchronous
        ? "its source defines getPoetry, taking a callback or returning a promise"
        : "its source defines getPoetry, but it takes one argument and returns no promise"
      : "its source defines a function getPoetry",
    "Write getPoetry(address, callback), or getPoetry(address) returning a Promise, " +
      "and use it for each address.",
  );
  const specs = [
    { poetryFile: "poetry/ecstasy.txt", chunkBytes: 30, delay: 0.012 },
    { poetryFile: "poetry/fascination.txt", delay: 0.01 },
    { poetryFile: "poetry/science.txt", delay: 0.01 },
  ];
  await withServers(report, specs, async (servers) => {
    const ports = servers.map((server) => String(server.port));
    const run = await runLearnerFile(report, file, [...args, ...ports], CLIENT_LIMIT_MS, {
      workOverAt: () => poemsOverAt(servers),
    });
    const allRead = servers.map((server) => checkPoemRead(report, server)).every(Boolean);
    if (!allRead) return;
    const records = servers.map((server) => mainConnection(server) as ConnectionRecord);
    const lastConnected = Math.max(...records.map((record) => record.acceptedAt));
    const firstDone = Math.min(...records.map((record) => record.sentAllAt ?? Infinity));
    report.check(
      lastConnected < firstDone,
      lastConnected < firstDone
        ? "the three downloads ran at once: all connected before the first poem was done"
        : "the downloads ran one after another: one connection only after the last ended",
      "Start every download before waiting for any: getPoetry must return at once.",
    );
    const lastDone = Math.max(...records.map((record) => record.sentAllAt ?? 0));
    const took = lastDone - Math.min(...records.map((record) => record.acceptedAt));
    const each = records.map((record) => (record.sentAllAt ?? 0) - record.acceptedAt);
    const sum = each.reduce((a, b) => a + b, 0);
    const longest = Math.max(...each);
    const overlapped = took < longest + 0.5 * (sum - longest);
    report.check(
      overlapped,
      `the three took ${seconds(took)}: ` +
        (overlapped
          ? `about the slowest poem (${seconds(longest)}), not the sum (${seconds(sum)})`
          : `nearer the sum of the poems' times (${seconds(sum)}) than the slowest (${
            seconds(longest)
          })`),
      "Let the downloads overlap: read whatever has arrived on any socket.",
    );
    judgeOverlapInTrace(report, run.model);
    checkEndsSoonAfter(report, run, lastDone, "the last poem");
  });
}

/**
 * Judges a trace for Part 2, exercise 3: bytes arrived on three sockets at once (each
 * socket's first bytes came before every other's last). A program whose sockets the
 * trace does not see (Deno's own, say) gets a note instead: the servers' view decides.
 *
 * @example
 * ```ts
 * import { judgeOverlapInTrace } from "./checks.ts";
 * import { Report } from "./report.ts";
 * import { modelOfRun } from "../trace/read.ts";
 * judgeOverlapInTrace(new Report(), modelOfRun([])); // a note: no socket reads traced
 * ```
 *
 * @param report where to report
 * @param model the run, from its trace
 */
export function judgeOverlapInTrace(report: Report, model: RunModel): void {
  // The three sockets that received the most, in the order their bytes began.
  const sockets = receivingSpans(model).slice(0, 3).sort((a, b) => a.firstUs - b.firstUs);
  if (sockets.length < 3) {
    report.note(
      "its trace shows no reads on three sockets (Deno's own sockets are not traced): " +
        "the servers' view decides",
    );
    return;
  }
  const overlapped = Math.max(...sockets.map((span) => span.firstUs)) <
    Math.min(...sockets.map((span) => span.lastUs));
  report.check(
    overlapped,
    `in its trace, bytes came on three sockets at once (${
      sockets.map((span) =>
        `descriptor ${span.fd}: ${span.bytes} bytes, ${atTime(span.firstUs)} to ${
          atTime(span.lastUs)
        }`
      ).join("; ")
    })`,
    "Let the downloads overlap: watch every socket at once and read whatever has arrived.",
  );
}
