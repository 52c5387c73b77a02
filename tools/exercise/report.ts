/**
 * What every exercise check shares: a report that prints each thing checked as it is
 * checked, and ends with `passed` or with what failed and a hint; and the run of the
 * learner's file under a time limit.
 *
 * @example
 * ```ts
 * import { Report, runLearnerFile } from "./report.ts";
 *
 * const report = new Report();
 * const run = await runLearnerFile(report, "basic/countdown.ts", [], 20_000);
 * report.check(run.code === 0, `it ended with exit 0 (exit ${run.code})`, "Does it throw?");
 * Deno.exit(report.finish());
 * ```
 *
 * @module
 */

import { fromRoot, type Outcome, ScriptProcess } from "../process.ts";

/** Something that did not hold, and where to look. */
interface Failure {
  what: string;
  hint: string;
}

/**
 * The checker's output: a line per thing checked (`ok` or `FAIL`), then the verdict.
 *
 * @example
 * ```ts
 * import { Report } from "./report.ts";
 * const report = new Report();
 * report.note("started a server on port 40000");
 * report.check(true, "the poem was sent whole", "Read until the server closes.");
 * console.log(report.finish()); // prints "passed", then 0
 * ```
 */
export class Report {
  readonly #failures: Failure[] = [];

  /**
   * Prints a line saying what the checker did.
   *
   * @example
   * ```ts
   * import { Report } from "./report.ts";
   * new Report().note("server on port 40000: poetry/science.txt");
   * ```
   *
   * @param text the line
   */
  note(text: string): void {
    console.log(`  ${text}`);
  }

  /**
   * Prints `ok` or `FAIL` and what was checked; remembers a failure with its hint.
   *
   * @example
   * ```ts
   * import { Report } from "./report.ts";
   * const report = new Report();
   * report.check(2 + 2 === 5, "two and two make five", "Count again."); // FAIL  two and two ...
   * ```
   *
   * @param holds whether it held
   * @param what what was checked, with what was seen
   * @param hint where to look when it does not hold
   * @returns `holds`
   */
  check(holds: boolean, what: string, hint: string): boolean {
    console.log(`  ${holds ? "ok  " : "FAIL"}  ${what}`);
    if (!holds) this.#failures.push({ what, hint });
    return holds;
  }

  /**
   * Whether every check so far held.
   *
   * @example
   * ```ts
   * import { Report } from "./report.ts";
   * new Report().passing; // true: nothing has failed yet
   * ```
   */
  get passing(): boolean {
    return this.#failures.length === 0;
  }

  /**
   * Prints `passed`, or `failed:` with each failure and its hint.
   *
   * @example
   * ```ts
   * import { Report } from "./report.ts";
   * Deno.exitCode = new Report().finish(); // prints "passed"; 0
   * ```
   *
   * @returns the exit status: 0 when passed, 1 when failed
   */
  finish(): number {
    if (this.passing) {
      console.log("passed");
      return 0;
    }
    console.log(
      `failed: ${this.#failures.length === 1 ? "one check" : `${this.#failures.length} checks`}`,
    );
    for (const { what, hint } of this.#failures) {
      console.log(`  - ${what}`);
      console.log(`    hint: ${hint}`);
    }
    return 1;
  }
}

/**
 * How the learner's file ended.
 *
 * @example
 * ```ts
 * import type { LearnerRun } from "./report.ts";
 * const ok = (run: LearnerRun) => !run.timedOut && run.code === 0;
 * ```
 */
export interface LearnerRun extends Outcome {
  /** Whether it was still running at the time limit, and was killed. */
  timedOut: boolean;
  /** `performance.now()` when it ended. */
  endedAt: number;
}

/**
 * Whether stderr shows a stack trace (an uncaught error), rather than messages of the
 * program's own.
 *
 * @example
 * ```ts
 * import { hasStackTrace } from "./report.ts";
 * hasStackTrace("error: Uncaught (in promise) Error: x\n    at file:///a.ts:1:7"); // true
 * hasStackTrace("Task 2: failed to connect"); // false
 * ```
 *
 * @param stderr everything the program wrote to stderr
 * @returns whether it holds a trace
 */
export function hasStackTrace(stderr: string): boolean {
  return /^\s+at \S/m.test(stderr) || /^error: Uncaught/m.test(stderr);
}

/** Ways a file fails before it runs, and what to do about each. */
const STARTUP_FAILURES = [
  {
    pattern: /^error: Module not found/m,
    what: "it could not load a module it imports",
    hint: "Keep your file inside this directory (in mine/, say), so that its imports " +
      "(../lib/reactor/mod.ts) find lib/ as they do from basic/.",
  },
  {
    pattern: /^error: The module's source code could not be parsed/m,
    what: "its source does not parse",
    hint: "See the line and column named in its stderr above.",
  },
];

/** The learner's files running now. */
const running = new Set<ScriptProcess>();

/**
 * Kills (SIGKILL) every learner's file still running: for a checker that is itself
 * interrupted, so that nothing it started is left behind.
 *
 * @example
 * ```ts
 * import { killLearnerFiles } from "./report.ts";
 * Deno.addSignalListener("SIGTERM", () => {
 *   killLearnerFiles();
 *   Deno.exit(143);
 * });
 * ```
 */
export function killLearnerFiles(): void {
  for (const process of running) process.kill("SIGKILL");
}

/** The last few lines of a text, indented, for the report. */
function tail(text: string, count: number): string[] {
  const lines = text.trimEnd().split("\n").filter((line) => line !== "");
  const shown = lines.slice(-count).map((line) => `      | ${line}`);
  return lines.length > count
    ? [`      | ... (${lines.length - count} lines before)`, ...shown]
    : shown;
}

/**
 * Runs `deno run -N -R FILE ARGS...` from the repository's root, noting the command in
 * the report, and waits for it to end, killing it at the time limit. Then it checks
 * what every run must do: end by itself within the limit, without a stack trace; and
 * when told, with exit status 0. The last lines of its output go into the report.
 *
 * @example
 * ```ts
 * import { Report, runLearnerFile } from "./report.ts";
 * const report = new Report();
 * const run = await runLearnerFile(report, "basic/countdown.ts", [], 20_000);
 * console.log(run.lines.length);
 * ```
 *
 * @param report where to say what happened
 * @param file the learner's file, absolute or from the repository's root
 * @param args its arguments
 * @param limitMs how long it may run
 * @param options `exitZero`: whether a non-zero exit status fails the check (default true)
 * @returns how it ended
 */
export async function runLearnerFile(
  report: Report,
  file: string,
  args: string[],
  limitMs: number,
  options: { exitZero?: boolean } = {},
): Promise<LearnerRun> {
  report.note(
    `ran: deno run -N -R ${[fromRoot(file), ...args].join(" ")}  (time limit ${limitMs / 1000} s)`,
  );
  const process = new ScriptProcess(file, args);
  running.add(process);
  const outcome = await process.finishedWithin(limitMs);
  running.delete(process);
  const endedAt = process.startedAt + outcome.elapsedMs;
  const run = { ...outcome, endedAt };
  const output = outcome.lines.map((line) => line.text).join("\n");
  if (output !== "") report.note(["its output:", ...tail(output, 8)].join("\n"));
  if (outcome.stderr.trim() !== "") {
    report.note(["its stderr:", ...tail(outcome.stderr, 6)].join("\n"));
  }
  for (const { pattern, what, hint } of STARTUP_FAILURES) {
    if (pattern.test(outcome.stderr)) report.check(false, what, hint);
  }
  report.check(
    !outcome.timedOut,
    outcome.timedOut
      ? `it was still running after ${limitMs / 1000} s, and was stopped`
      : `it ended by itself, after ${(outcome.elapsedMs / 1000).toFixed(2)} s`,
    "Something keeps it alive: a reactor nobody stops, a socket or timer left open. " +
      "Stop the reactor when the last piece of work is done, and close every socket.",
  );
  if (!outcome.timedOut && options.exitZero !== false) {
    report.check(
      outcome.code === 0,
      `exit status ${outcome.code}`,
      "It should end normally, with exit status 0: see its stderr above.",
    );
  }
  const stackTrace = hasStackTrace(outcome.stderr);
  report.check(
    !stackTrace,
    stackTrace ? "a stack trace on stderr" : "no stack trace on stderr",
    "An error was thrown and nobody caught it: see its stderr above for where.",
  );
  return run;
}
