/**
 * The checks of the exercises, one function per exercise that can be checked by running
 * the learner's file. Each prints what it checks into a {@linkcode Report}; none depends
 * on the wording of the file's output. The poetry clients are run against the checker's
 * own servers, which see for themselves whether each poem was read to the end.
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
import { type Counter, findCounters } from "./counters.ts";
import { type LearnerRun, type Report, runLearnerFile } from "./report.ts";
import { type ConnectionRecord, WatchedPoetryServer, type WatchedServerSpec } from "./server.ts";

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
/** How long a poetry client may run. */
const CLIENT_LIMIT_MS = 20_000;
/** The time limit of the Part 4 timeout exercise, in seconds: `--timeout 1`. */
const POEM_TIMEOUT_SECONDS = 1;
/** Grace after the last thing a program had to do, before "it ended soon after" fails. */
const GRACE_MS = 1500;

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** The source without its comments, roughly: enough to look for names. */
function sourceWithoutComments(file: string): string {
  return Deno.readTextFileSync(file).replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
}

// -- Part 3 ---------------------------------------------------------------------------

function describeCounter(counter: Counter): string {
  return `${counter.values[0]}..${counter.values.at(-1)} every ${seconds(counter.intervalMs)}`;
}

/** Whether the program ended soon after its last count. */
function checkEndsAfterCounting(report: Report, run: LearnerRun, counters: Counter[]): void {
  const lastCount = Math.max(...counters.map((counter) => counter.times.at(-1) ?? 0));
  const slowest = Math.max(...counters.map((counter) => counter.intervalMs));
  const after = run.elapsedMs - lastCount;
  report.check(
    after <= 2 * slowest + GRACE_MS,
    `it ended ${seconds(after)} after its last count (a count every ${
      seconds(slowest)
    } at the slowest)`,
    "Stop the reactor as soon as the counting is over, not on a fixed timer.",
  );
}

/**
 * Part 3, exercise 1: three counters at different rates, their lines interleaved, and
 * the program ends by itself soon after the last count.
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
  const run = await runLearnerFile(report, file, args, COUNTDOWN_LIMIT_MS);
  const counters = findCounters(run.lines);
  const found = counters.map(describeCounter).join("; ");
  if (
    !report.check(
      counters.length >= 3,
      `three counters in its output (found ${counters.length}${found ? `: ${found}` : ""})`,
      "Each counter should print a line with its number at each count (at least three " +
        "counts each). Start from basic/countdown.ts and make three Countdown objects.",
    )
  ) return;
  const intervals = counters.map((counter) => counter.intervalMs).toSorted((a, b) => a - b);
  const distinct = intervals[0] >= 10 &&
    intervals.every((interval, index) => index === 0 || interval >= 1.2 * intervals[index - 1]);
  report.check(
    distinct,
    `each at its own rate (every ${intervals.map(seconds).join(", ")})`,
    "Give each counter its own interval in callLater, such as 1 s, 0.5 s and 0.3 s.",
  );
  const overlap = counters.every((a) =>
    counters.every((b) => a === b || (a.times[0] < (b.times.at(-1) ?? 0)))
  );
  report.check(
    overlap,
    overlap ? "their lines interleaved: they ran at the same time" : "they ran one after another",
    "Start all three before the reactor runs (callWhenRunning), not each when the last ends.",
  );
  checkEndsAfterCounting(report, run, counters);
}

/**
 * Part 3, exercise 2: the countdown with `LoopingCall`: the source uses it, the program
 * counts down, and ends by itself soon after.
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
  const source = sourceWithoutComments(file);
  const usesLoopingCall = /\b(new\s+LoopingCall|extends\s+LoopingCall)\b/.test(source);
  if (
    !report.check(
      usesLoopingCall,
      "its source makes a LoopingCall",
      "Import LoopingCall from lib/reactor/mod.ts (or task.ts), make one with the function " +
        "that counts, and start it with the interval; it replaces the callLater in count.",
    )
  ) {
    report.note("not run: first make it use LoopingCall");
    return;
  }
  const run = await runLearnerFile(report, file, args, COUNTDOWN_LIMIT_MS);
  const countdowns = findCounters(run.lines).filter((counter) => counter.down);
  if (
    !report.check(
      countdowns.length >= 1,
      countdowns.length >= 1
        ? `it counts down: ${describeCounter(countdowns[0])}`
        : "it counts down (no line with a number that goes down by one, three times or more)",
      "Print the counter at each call, as basic/countdown.ts does, and count down to 1.",
    )
  ) return;
  checkEndsAfterCounting(report, run, countdowns);
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

/** The first connection a server saw, if any. */
function firstConnection(server: WatchedPoetryServer): ConnectionRecord | undefined {
  return server.connections[0];
}

/**
 * The connection that read the poem to the end, if one did (a client may have tried more
 * than once); otherwise the first, if any.
 */
function mainConnection(server: WatchedPoetryServer): ConnectionRecord | undefined {
  return server.connections.find((record) => readToTheEnd(record, server.poem.length)) ??
    firstConnection(server);
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
    const run = await runLearnerFile(report, file, [...args, ...ports], CLIENT_LIMIT_MS);
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
      { exitZero: false },
    );
    checkPoemRead(report, fast);
    checkPoemRead(report, otherFast);
    const record = firstConnection(slow);
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
        : "Call callLater(timeout, ...) when each download starts; when it fires, close " +
          "that socket and remove it from the reactor. Cancel it when a poem ends in time.",
    );
    if (inTime && closedAt !== null) checkEndsSoonAfter(report, run, closedAt, "giving up");
  });
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
    const run = await runLearnerFile(report, file, [...args, ...ports], CLIENT_LIMIT_MS);
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
    checkEndsSoonAfter(report, run, lastDone, "the last poem");
  });
}
