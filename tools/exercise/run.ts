/**
 * Running a learner's file for a check: traced (`lib/trace/preload.ts`), under a time
 * limit, with its trace read while it runs. A reactor left with nothing to do (no
 * descriptor watched, no delayed call pending) never ends by itself, so the file is
 * stopped as soon as its trace shows that, rather than at the time limit; so is a poetry
 * client still running 3 s after the checker's servers saw its last poem over, and a loop
 * that spins so fast its trace passes 400,000 events. Then come the checks every answer must
 * pass: it ended by itself, with exit status 0, and no error went uncaught, as its trace
 * tells (an error printed on purpose is the program's business).
 *
 * @example
 * ```ts
 * import { Report } from "./report.ts";
 * import { runLearnerFile } from "./run.ts";
 *
 * const report = new Report();
 * const run = await runLearnerFile(report, "basic/countdown.ts", [], 20_000);
 * console.log(run.model.reactor?.stopUs !== undefined); // the reactor was stopped
 * ```
 *
 * @module
 */

import { fromRoot, type Outcome, ROOT, ScriptProcess } from "../../tools/process.ts";
import { TRACE_FILE_VARIABLE, type TraceEvent } from "../../lib/trace/mod.ts";
import type { Report } from "./report.ts";
import { idleSinceUs, modelOfRun, type RunModel, type SocketLane } from "../trace/read.ts";
import { tracedPermissions } from "../trace/run.ts";
import { lastCallbackBefore, secondsText } from "./trace_facts.ts";
import { TraceTail } from "./trace_file.ts";

/** How often the trace is read while the file runs. */
const POLL_MS = 150;
/** How long a reactor may sit with nothing to do before the file is stopped. */
const IDLE_GRACE_MS = 1000;
/**
 * How long a program may run on once its work is over (every poem sent or given up, as
 * the checker's servers see it) before it is stopped: past the checks' own grace for
 * "it ended soon after", so the verdict is the same, only sooner.
 */
const RAN_ON_MS = 3000;
/** The most trace events read from one run: a loop that spins writes millions. */
const MAX_EVENTS = 400_000;
/** Where the traces go while the files run: inside the repository, ignored by git. */
const TRACE_DIRECTORY = `${ROOT}/.tmp/exercise`;

/**
 * How the learner's file ended, and what its trace says it did.
 *
 * @example
 * ```ts
 * import type { LearnerRun } from "./run.ts";
 * const ok = (run: LearnerRun) => !run.timedOut && run.code === 0;
 * ```
 */
export interface LearnerRun extends Outcome {
  /** Whether it was still running at the time limit, and was killed. */
  timedOut: boolean;
  /**
   * Why the checker stopped it before the limit, if it did: its reactor had nothing left
   * to do; it ran on after its work was over; its trace grew past what can be read; its
   * reactor's loop had not begun by the time it should have (`reactorWithinMs`).
   */
  stoppedBecause?: "idle reactor" | "ran on" | "trace flood" | "no reactor";
  /** `performance.now()` when its work was over, as `workOverAt` told, if it was. */
  workOverAt?: number;
  /** `performance.now()` when it ended. */
  endedAt: number;
  /** Its trace. */
  events: TraceEvent[];
  /** What the trace says it did. */
  model: RunModel;
}

/** The learner's files running now. */
const running = new Set<ScriptProcess>();
/** Their trace files, removed when they end. */
const traceFiles = new Set<string>();

/**
 * Kills (SIGKILL) every learner's file still running, and removes their traces: for a
 * checker that is itself interrupted, so that nothing it started is left behind.
 *
 * @example
 * ```ts
 * import { killLearnerFiles } from "./run.ts";
 * Deno.addSignalListener("SIGTERM", () => {
 *   killLearnerFiles();
 *   Deno.exit(143);
 * });
 * ```
 */
export function killLearnerFiles(): void {
  for (const process of running) process.kill("SIGKILL");
  for (const path of traceFiles) {
    try {
      Deno.removeSync(path);
    } catch {
      // gone already
    }
  }
}

/**
 * The last `count` lines of a text, indented, for the report: `lastLines("a\nb\nc", 2)`
 * gives `| ... (1 lines before)`, `| b`, `| c`.
 */
function lastLines(text: string, count: number): string[] {
  const lines = text.trimEnd().split("\n").filter((line) => line !== "");
  const shown = lines.slice(-count).map((line) => `      | ${line}`);
  return lines.length > count
    ? [`      | ... (${lines.length - count} lines before)`, ...shown]
    : shown;
}

/** What Deno says when a file cannot start, and what to do about it. */
const STARTUP_FAILURES = [
  {
    pattern: /^error: Module not found/m,
    hint: "It could not load a module it imports. Keep your file inside this directory " +
      "(in mine/, say), so that its imports (../lib/reactor/mod.ts) find lib/ as they do " +
      "from basic/.",
  },
  {
    pattern: /^error: The module's source code could not be parsed/m,
    hint: "Its source does not parse: see the line and column named in its stderr above.",
  },
];

/**
 * Runs `deno run -N -R FILE ARGS...` traced, from the repository's root, noting the
 * command in the report, and waits for it to end. It is killed at the time limit, or
 * earlier when its trace shows a reactor with nothing left to do for a second. Then it
 * checks
 * what every run must do: end by itself, with exit status 0 when `exitZero` (the
 * default), and no error that nobody caught (an `uncaught` event, or an error the
 * reactor reported as unhandled). The end of its output goes into the report, for the
 * learner; it decides nothing.
 *
 * @example
 * ```ts
 * import { Report } from "./report.ts";
 * import { runLearnerFile } from "./run.ts";
 * const report = new Report();
 * const run = await runLearnerFile(report, "basic/simple.ts", [], 20_000);
 * console.log(run.stoppedBecause); // idle reactor, after about a second
 * ```
 *
 * @param report where to say what happened
 * @param file the learner's file, absolute or from the repository's root
 * @param args its arguments
 * @param limitMs how long it may run
 * @param options `exitZero`: whether a non-zero exit status fails the check (default
 *   true); `workOverAt`: when the program's work was over (`performance.now()`), once it
 *   is, so that a program still running well after that is stopped then;
 *   `reactorWithinMs`: for a program whose work is all on the reactor, how soon its loop
 *   must have begun waiting, or it is stopped (a top-level `await` before `reactor.run()`
 *   waits for ever)
 * @returns how it ended, and its trace
 */
export async function runLearnerFile(
  report: Report,
  file: string,
  args: string[],
  limitMs: number,
  options: {
    exitZero?: boolean;
    workOverAt?: () => number | undefined;
    reactorWithinMs?: number;
  } = {},
): Promise<LearnerRun> {
  report.note(
    `ran: deno run -N -R ${[fromRoot(file), ...args].join(" ")}  (time limit ${
      limitMs / 1000
    } s, traced)`,
  );
  Deno.mkdirSync(TRACE_DIRECTORY, { recursive: true });
  const tracePath = Deno.makeTempFileSync({ dir: TRACE_DIRECTORY, suffix: ".json" });
  traceFiles.add(tracePath);
  const process = new ScriptProcess(file, args, {
    permissions: tracedPermissions(tracePath),
    env: { [TRACE_FILE_VARIABLE]: tracePath },
  });
  running.add(process);
  const tail = new TraceTail(tracePath);
  let stoppedBecause: LearnerRun["stoppedBecause"];
  let finished = false;
  let floodAt: number | undefined;
  // A reactor's first wait is written out as it begins: without one, its loop never ran.
  let waited = false;
  const watching = (async () => {
    let idleSeenAt: number | undefined;
    while (!finished) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const now = performance.now();
      const workOverAt = options.workOverAt?.();
      if (floodAt !== undefined) {
        // Past the limit the trace is no longer read; let the servers finish what they
        // can tell (a few seconds at most), then stop it.
        const workOver = workOverAt === undefined
          ? options.workOverAt === undefined
          : now - workOverAt >= 1000;
        if (workOver || now - floodAt >= 5000) stoppedBecause = "trace flood";
      } else {
        const added = tail.read();
        waited ||= added.some((event) => event.name === "wait");
        if (tail.events.length > MAX_EVENTS) floodAt = now;
      }
      // A waiting reactor's wait began last (it is flushed as it begins), so it is the
      // run's last wait, and still open: the model of that one event tells whether it
      // watches nothing, with no timeout.
      const last = tail.events.at(-1);
      const idle = last?.name === "wait" && last.ph === "B" &&
        idleSinceUs(modelOfRun([last])) !== undefined;
      idleSeenAt = idle ? idleSeenAt ?? now : undefined;
      if (idleSeenAt !== undefined && now - idleSeenAt >= IDLE_GRACE_MS) {
        stoppedBecause = "idle reactor";
      }
      if (workOverAt !== undefined && now - workOverAt >= RAN_ON_MS) stoppedBecause ??= "ran on";
      if (
        options.reactorWithinMs !== undefined &&
        now - process.startedAt >= options.reactorWithinMs && floodAt === undefined && !waited
      ) stoppedBecause ??= "no reactor";
      if (stoppedBecause !== undefined && !finished) {
        process.kill("SIGKILL");
        return;
      }
    }
  })();
  const outcome = await process.finishedWithin(limitMs);
  finished = true;
  await watching;
  running.delete(process);
  if (floodAt === undefined) tail.read();
  Deno.removeSync(tracePath);
  traceFiles.delete(tracePath);
  const model = modelOfRun(tail.events);
  const run: LearnerRun = {
    ...outcome,
    timedOut: outcome.timedOut && stoppedBecause === undefined,
    stoppedBecause,
    workOverAt: options.workOverAt?.(),
    endedAt: process.startedAt + outcome.elapsedMs,
    events: tail.events,
    model,
  };
  const output = outcome.lines.map((line) => line.text).join("\n");
  if (output !== "") report.note(["its output:", ...lastLines(output, 8)].join("\n"));
  if (outcome.stderr.trim() !== "") {
    report.note(["its stderr:", ...lastLines(outcome.stderr, 6)].join("\n"));
  }
  checkEnding(report, run, limitMs, options.exitZero !== false);
  return run;
}

/**
 * What kept a program busy after its work: the callback the reactor made most often
 * in its last second (`doRead of Reader`, 40,000 times), or, without one, the socket
 * that kept giving an empty `recv` (end of stream) on its own loop.
 */
function busiestAtTheEnd(model: RunModel): string | undefined {
  const fromUs = model.endUs - 1e6;
  const counts = new Map<string, number>();
  for (const callback of model.callbacks) {
    if (callback.startUs >= fromUs) {
      counts.set(callback.label, (counts.get(callback.label) ?? 0) + 1);
    }
  }
  const [label, times] = [...counts].reduce<[string, number] | [undefined, 0]>(
    (best, entry) => (entry[1] > best[1] ? entry : best),
    [undefined, 0],
  );
  if (label !== undefined && times >= 100) {
    return `the reactor called ${label} ${times} times in its last second: at the end of a ` +
      "poem (recv gives an empty array), return CONNECTION_DONE from doRead (or remove the " +
      "reader), or the reactor finds the socket readable and calls it again, for ever.";
  }
  const ends = model.sockets.map((lane) => ({
    lane,
    count:
      lane.events.filter((event) =>
        event.name === "recv" && event.args?.bytes === 0 && event.ts >= fromUs
      ).length,
  })).reduce((a, b) => (b.count > a.count ? b : a), { lane: undefined, count: 0 } as {
    lane: SocketLane | undefined;
    count: number;
  });
  if (ends.lane !== undefined && ends.count >= 100) {
    return `descriptor ${ends.lane.fd} gave the end of its stream (an empty recv) ` +
      `${ends.count} times in its last second: once a socket's poem is over, close it and ` +
      "stop watching it, or select finds it readable again at once, for ever.";
  }
  return undefined;
}

/**
 * What a program stopped at the time limit was still doing, from its trace: the
 * LoopingCall or delayed calls that kept running in its last seconds (`LoopingCall of
 * tick ran 198 times, every 0.20 s, and was still running`), for a hint.
 */
function stillGoing(model: RunModel): string | undefined {
  const fromUs = model.endUs - 3e6;
  const recent = new Map<string, number[]>();
  for (const callback of model.callbacks) {
    if (callback.args.kind !== "loopingCall" && callback.args.kind !== "delayedCall") continue;
    const starts = recent.get(callback.label) ?? [];
    starts.push(callback.startUs);
    recent.set(callback.label, starts);
  }
  const going = [...recent].filter(([, starts]) => (starts.at(-1) ?? 0) >= fromUs)
    .sort((a, b) => b[1].length - a[1].length);
  if (going.length === 0) return undefined;
  const [label, starts] = going[0];
  const everyS = starts.length >= 2
    ? ((starts[starts.length - 1] - starts[0]) / (starts.length - 1)) / 1e6
    : undefined;
  return `${label} ran ${starts.length} times${
    everyS === undefined ? "" : `, about every ${secondsText(everyS)}`
  }, and was still running at the time limit: when the count is over, stop it (a ` +
    "LoopingCall's stop(), or no next callLater), then call reactor.stop().";
}

/** The checks every run must pass: how it ended, and no error nobody caught. */
function checkEnding(report: Report, run: LearnerRun, limitMs: number, exitZero: boolean): void {
  const { model } = run;
  if (run.stoppedBecause === "idle reactor") {
    const idleUs = idleSinceUs(model) ?? model.endUs;
    const last = lastCallbackBefore(model, idleUs);
    report.check(
      false,
      `its reactor had nothing left to do from ${secondsText(idleUs / 1e6)} on (no ` +
        `descriptor watched, no delayed call pending), yet went on running: stopped` +
        (last === undefined ? "" : ` (the last callback was ${last})`),
      "Nobody called reactor.stop()" +
        (last === undefined
          ? ". Call it when the last piece of work is done: when the last counter finishes, " +
            "or the last download ends."
          : `: after ${last} ran, nothing was left to do. Stop the reactor where the ` +
            `last piece of work ends (in ${last}, or in what it calls back, once the last ` +
            "counter or download is over), and the program ends by itself."),
    );
  } else if (run.stoppedBecause === "no reactor") {
    report.check(
      false,
      `its reactor's loop had not begun ${
        (run.elapsedMs / 1000).toFixed(1)
      } s in, and it was stopped`,
      "Its reactor never ran, so nothing it was asked to do (a callLater, a LoopingCall's " +
        "next call) could happen: an await at the top of the program before reactor.run() " +
        "waits for ever. Start the work, then await reactor.run(), and stop the reactor from " +
        "where the work ends (in the last count, or start().then(() => reactor.stop())).",
    );
  } else if (run.stoppedBecause === "ran on" || run.stoppedBecause === "trace flood") {
    const overS = run.workOverAt === undefined ? undefined : (run.endedAt - run.workOverAt) / 1000;
    report.check(
      false,
      run.stoppedBecause === "ran on" && overS !== undefined
        ? `it was still running ${overS.toFixed(1)} s after its last poem was over, and was stopped`
        : `it wrote over ${MAX_EVENTS} trace events in ${
          (run.elapsedMs / 1000).toFixed(1)
        } s, a loop that never rests, and was stopped`,
      busiestAtTheEnd(model) ?? (model.reactor === undefined && model.waits.length === 0 &&
          model.blocking.every((call) => call.name === "connect")
        ? "No reactor ever ran in it, and nothing waited in a select. If it uses the " +
          "reactor: an await at the top of the program before reactor.run() waits for ever " +
          "for what only the reactor can do; start the downloads, then await reactor.run(), " +
          "and stop the reactor once the last poem is in (Promise.all(...).then(() => " +
          "reactor.stop())). If it uses Deno's own sockets: close each one when its poem ends."
        : "Something keeps it going once the poems are in: stop the reactor (or end your " +
          "loop) when the last download is over, and close every socket."),
    );
  } else {
    report.check(
      !run.timedOut,
      run.timedOut
        ? `it was still running after ${limitMs / 1000} s, and was stopped`
        : `it ended by itself, after ${(run.elapsedMs / 1000).toFixed(2)} s`,
      (run.timedOut ? stillGoing(model) : undefined) ??
        "Something keeps it alive: a reactor nobody stops, a socket or timer left open. " +
          "Stop the reactor when the last piece of work is done, and close every socket.",
    );
    if (!run.timedOut && exitZero) {
      const startup = STARTUP_FAILURES.find(({ pattern }) => pattern.test(run.stderr));
      const exitedOnPurpose = model.exit !== undefined && model.exit.code === run.code &&
        model.uncaught === undefined && (model.reactor === undefined ||
          model.reactor.stopUs !== undefined);
      report.check(
        run.code === 0,
        `exit status ${run.code}`,
        startup?.hint ??
          (exitedOnPurpose
            ? `Nothing went wrong that it did not catch${
              model.reactor?.stopUs === undefined
                ? ""
                : `, and its reactor was stopped at ${secondsText(model.reactor.stopUs / 1e6)}`
            }, yet it set exit status ${run.code} itself (Deno.exit(${run.code}), or ` +
              "Deno.exitCode). An answer that did its work ends with status 0, even when " +
              "a server could not be reached: report that, and end normally."
            : "It should end normally, with exit status 0: see its stderr above."),
      );
    }
  }
  report.check(
    model.uncaught === undefined,
    model.uncaught === undefined
      ? "no error went uncaught"
      : `an error nobody caught reached the top of the program: ${model.uncaught.error}`,
    "Something threw and nothing caught it: see its stderr above for where. Catch the " +
      "error where you can do something about it (try/catch around the call that fails).",
  );
  const [unhandled, ...more] = model.unhandled;
  if (unhandled !== undefined) {
    const where = unhandled.logPrefix === undefined ? "" : ` (in ${unhandled.logPrefix})`;
    report.check(
      false,
      `a callback threw and the reactor reported it as an Unhandled Error${where}: ` +
        unhandled.error + (more.length > 0 ? ` (and ${more.length} more)` : ""),
      "The reactor catches what a callback throws, reports it and goes on, but the work of " +
        "that callback is lost: catch the error in the callback itself.",
    );
  }
}

/**
 * Type-checks the file with `deno check`, at the lowest CPU priority (`nice`), so that
 * it can run while the file itself runs without slowing it: start it first, note its
 * result with {@linkcode noteTypeErrors} at the end.
 *
 * @example
 * ```ts
 * import { typeErrors } from "./run.ts";
 * console.log(await typeErrors("basic/countdown.ts")); // []: it type-checks
 * ```
 *
 * @param file the learner's file
 * @returns one line per type error (`TS2322 [ERROR]: ... (mine/x.ts:3:7)`); the end of
 *   what `deno check` said when it failed otherwise; none when it type-checks, or when
 *   `deno check` cannot be run at all
 */
export async function typeErrors(file: string): Promise<string[]> {
  const checkArgs = ["check", "--no-config", "--quiet", file];
  const options = { cwd: ROOT, stdout: "piped", stderr: "piped", env: { NO_COLOR: "1" } } as const;
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("nice", {
      args: ["-n", "19", Deno.execPath(), ...checkArgs],
      ...options,
    })
      .output();
  } catch {
    try {
      output = await new Deno.Command(Deno.execPath(), { args: checkArgs, ...options }).output();
    } catch {
      return []; // deno itself cannot be run: nothing to say about the types
    }
  }
  if (output.success) return [];
  const text = new TextDecoder().decode(output.stderr);
  // Each error is a block: `TS2322 [ERROR]: message`, the line of code, `at file:///...:1:7`.
  const errors = text.split(/\n\s*\n/).flatMap((block) => {
    const message = /^(TS\d+ \[ERROR\]: .*)$/m.exec(block)?.[1];
    const where = /^\s+at (\S+)$/m.exec(block)?.[1];
    if (message === undefined) return [];
    return [where === undefined ? message : `${message} (${fromRoot(new URL(where).pathname)})`];
  });
  return errors.length > 0 ? errors : text.trimEnd().split("\n").slice(-6);
}

/**
 * Notes the type errors {@linkcode typeErrors} found, if any. They do not fail the
 * answer: the file ran, and its run was judged.
 *
 * @example
 * ```ts
 * import { Report } from "./report.ts";
 * import { noteTypeErrors } from "./run.ts";
 * noteTypeErrors(new Report(), ["TS2322 [ERROR]: Type 'string' is not assignable to type 'number'."]);
 * ```
 *
 * @param report where to note them
 * @param errors what typeErrors found
 */
export function noteTypeErrors(report: Report, errors: readonly string[]): void {
  if (errors.length === 0) return;
  const count = errors.every((line) => line.startsWith("TS"))
    ? `${errors.length} type error${errors.length === 1 ? "" : "s"}`
    : "type errors";
  report.note(
    [
      `note: deno check finds ${count} in it (they do not fail the answer):`,
      ...lastLines(errors.join("\n"), 6),
    ].join("\n"),
  );
}
