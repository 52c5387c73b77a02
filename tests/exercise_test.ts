/**
 * `deno task exercise`: our answers in `solutions/` pass, other correct answers in other
 * styles (tests/fixtures/exercises/) pass, the unchanged starting scripts fail, a file
 * that throws or never ends fails, and mistakes in the command exit 2.
 *
 * Run: deno test -A tests/exercise_test.ts
 */

import assert from "node:assert/strict";
import { Report } from "../tools/exercise/report.ts";
import { noteTypeErrors, runLearnerFile, typeErrors } from "../tools/exercise/run.ts";
import { checkCountdownLoopingCall, checkThreeCounters } from "../tools/exercise/checks.ts";
import { EXERCISES } from "../tools/exercise/catalogue.ts";
import { type Outcome, ScriptProcess } from "../tools/process.ts";

const PERMISSIONS = ["-N", "-R", "--allow-run", "--allow-env=INIT_CWD", "--allow-write=.tmp"];
const FIXTURES = "tests/fixtures/exercises";
/** How many answers are checked at once (each is a learner's process and up to 3 servers). */
const PARALLEL_CHECKS = 6;

function exercise(args: string[]): Promise<Outcome> {
  return new ScriptProcess("tools/exercise.ts", args, { permissions: PERMISSIONS })
    .finished(90_000);
}

const texts = (outcome: Outcome): string[] => outcome.lines.map((line) => line.text);

/** What a check said: its lines, whether it passed, and how long it took. */
interface Judged {
  lines: string[];
  passing: boolean;
  seconds: number;
}

/** Runs one exercise's check in this process, as `deno task exercise ID FILE` runs it. */
async function judge(id: string, file: string, args: string[] = []): Promise<Judged> {
  const check = EXERCISES.find((exercise) => exercise.id === id)?.check;
  if (check === undefined) throw new Error(`no check for exercise ${id}`);
  const lines: string[] = [];
  const report = new Report((line) => lines.push(line));
  const started = performance.now();
  await check(report, file, args);
  report.finish();
  return { lines, passing: report.passing, seconds: (performance.now() - started) / 1000 };
}

/** An answer and what the checker must say of it. */
interface Answer {
  id: string;
  file: string;
  args?: string[];
  /** Why it passes or fails, for the test's message. */
  why: string;
  /** For a wrong answer: a FAIL line it must have. */
  failing?: RegExp;
  /** A hint it must give. */
  hint?: RegExp;
  /** A FAIL line it must not have (a wrong reason once given). */
  notFailing?: RegExp;
  /** Whether its run takes 5 s or more (started first, so that the others fill in around it). */
  slow?: boolean;
}

/**
 * What is wrong with the checker's verdict on an answer: an empty list when it judged it
 * right, for the right reason.
 */
function misjudged(answer: Answer, judged: Judged): string[] {
  const fails = judged.lines.filter((line) => line.startsWith("  FAIL  "));
  const hints = judged.lines.filter((line) => line.startsWith("    hint: "));
  const problems: string[] = [];
  if (answer.failing === undefined) {
    if (!judged.passing) problems.push("a correct answer failed");
  } else {
    if (judged.passing) problems.push("a wrong answer passed");
    else if (!fails.some((line) => answer.failing?.test(line))) {
      problems.push(`no FAIL line matches ${answer.failing}`);
    }
    if (hints.length === 0) problems.push("no hint");
  }
  if (answer.hint !== undefined && !hints.some((line) => answer.hint?.test(line))) {
    problems.push(`no hint matches ${answer.hint}`);
  }
  if (answer.notFailing !== undefined && fails.some((line) => answer.notFailing?.test(line))) {
    problems.push(`a FAIL line matches ${answer.notFailing}, a wrong reason`);
  }
  return problems.map((problem) =>
    `${answer.id} ${answer.file} (${answer.why}): ${problem}\n${judged.lines.join("\n")}`
  );
}

/** Runs `work` on every item, at most `width` at a time; the results in the items' order. */
async function inParallel<T, R>(items: readonly T[], width: number, work: (item: T) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < items.length; index = next++) {
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return results;
}

const ANSWERS: Answer[] = [
  // Ours, and correct answers in other styles.
  { id: "2.3", file: "solutions/part-2/get-poetry-callback.ts", why: "ours, a callback" },
  { id: "2.3", file: "solutions/part-2/get-poetry-promise.ts", why: "ours, a promise" },
  { id: "2.3", file: `${FIXTURES}/native-promises.ts`, why: "native promises" },
  { id: "2.3", file: `${FIXTURES}/deno-sockets.ts`, why: "Deno's own sockets, untraced" },
  {
    id: "3.1",
    file: "solutions/part-3/countdowns.ts",
    args: ["--scale", "0.2"],
    why: "ours",
  },
  { id: "3.1", file: `${FIXTURES}/counters-numbered.ts`, why: "numbered counters" },
  { id: "3.1", file: `${FIXTURES}/countdowns-alike.ts`, why: "one label for three" },
  { id: "3.1", file: `${FIXTURES}/async-counters.ts`, why: "async counters" },
  { id: "3.1", file: `${FIXTURES}/silent-exit-counters.ts`, why: "silent, Deno.exit(0)" },
  {
    id: "3.2",
    file: "solutions/part-3/countdown-looping.ts",
    args: ["--interval", "0.2"],
    why: "ours",
  },
  { id: "3.2", file: `${FIXTURES}/looping-promise.ts`, why: "start() promise" },
  { id: "3.2", file: `${FIXTURES}/looping-task-namespace.ts`, why: "task.LoopingCall" },
  { id: "3.2", file: `${FIXTURES}/looping-alias.ts`, why: "LoopingCall as LC" },
  { id: "3.2", file: `${FIXTURES}/looping-with-count.ts`, why: "LoopingCall.withCount" },
  { id: "3.2", file: `${FIXTURES}/looping-async-stderr.ts`, why: "awaited start, stderr" },
  { id: "4.1", file: "solutions/part-4/get-poetry-robust.ts", why: "ours" },
  { id: "4.1", file: `${FIXTURES}/quiet-skipper.ts`, why: "quiet" },
  { id: "4.1", file: `${FIXTURES}/robust-console-error.ts`, why: "console.error(error)" },
  { id: "4.1", file: `${FIXTURES}/override-connect.ts`, why: "connect overridden" },
  { id: "4.1", file: `${FIXTURES}/nonblocking-connect.ts`, why: "connectEx and addWriter" },
  { id: "4.2", file: "solutions/part-4/get-poetry-timeout.ts", why: "ours" },
  { id: "4.2", file: `${FIXTURES}/one-deadline.ts`, why: "one deadline" },
  { id: "4.2", file: `${FIXTURES}/reset-deadline.ts`, why: "callLater(3600), then reset" },
  { id: "4.2", file: `${FIXTURES}/cancel-at-end-of-poem.ts`, why: "cancelled in doRead" },
  // The unchanged starting scripts, and wrong answers.
  {
    id: "4.1",
    file: "twisted-client/get-poetry.ts",
    failing: /the poem read to the end/,
    why: "it stops at the refused port",
  },
  {
    id: "4.2",
    file: "twisted-client/get-poetry.ts",
    failing: /given up about 1 s in/,
    why: "it knows no --timeout",
  },
  {
    id: "2.3",
    file: "blocking-client/get-poetry.ts",
    failing: /one after another/,
    why: "one poem after another",
  },
  {
    id: "2.3",
    file: "async-client/get-poetry.ts",
    failing: /defines getPoetry/,
    why: "no getPoetry of that shape",
  },
  {
    id: "3.1",
    slow: true,
    file: "basic/countdown.ts",
    failing: /three counters, .*\(found 1: count every 1\.00 s/,
    why: "one counter",
  },
  {
    id: "3.2",
    slow: true,
    file: "basic/countdown.ts",
    failing: /a LoopingCall ran \(none did\)/,
    why: "no LoopingCall",
  },
  {
    id: "3.1",
    file: `${FIXTURES}/countdowns-each-stops.ts`,
    failing:
      /each counted to its end \(Countdown\.count \(every 0\.17 s\) was still due in 0\.\d\d s when the reactor stopped; Countdown\.count \(every 0\.30 s\) was still due/,
    why: "each counter stops the reactor at zero",
  },
  {
    id: "3.1",
    file: `${FIXTURES}/exits-in-last-count.ts`,
    failing: /the reactor was stopped \(the program exited at \d\.\d\d s, after tick,/,
    hint: /Call reactor\.stop\(\) where the last piece of work ends \(in tick\)/,
    notFailing: /still due/,
    why: "Deno.exit(0) in its last count, the reactor never stopped",
  },
  {
    id: "3.1",
    file: `${FIXTURES}/throws.ts`,
    failing: /an error nobody caught .*: Error: the counter broke/,
    why: "it throws",
  },
  {
    id: "3.2",
    slow: true,
    file: `${FIXTURES}/looping-awaited-before-run.ts`,
    failing: /its reactor's loop had not begun 5\.\d s in, and it was stopped/,
    hint: /an await at the top of the program before reactor\.run\(\) waits for ever/,
    why: "it awaits start() before reactor.run()",
  },
  {
    id: "2.3",
    slow: true,
    file: `${FIXTURES}/awaits-before-run.ts`,
    failing: /it was still running 3\.\d s after its last poem was over, and was stopped/,
    hint: /No reactor ever ran in it/,
    why: "it awaits the poems before reactor.run()",
  },
  {
    id: "3.2",
    file: `${FIXTURES}/looping-stopped-at-once.ts`,
    failing: /a LoopingCall ran: LoopingCall of .*looping-stopped-at-once\.ts:\d+, 1 time$/,
    hint: /LoopingCall of .*looping-stopped-at-once\.ts:\d+ ran only 1 time: it was stopped/,
    why: "it stops itself on its first call",
  },
  {
    id: "4.1",
    file: `${FIXTURES}/exits-with-one.ts`,
    failing: /exit status 1/,
    hint: /yet it set exit status 1 itself \(Deno\.exit\(1\)/,
    why: "it exits 1 after a clean run",
  },
  {
    id: "4.1",
    file: `${FIXTURES}/spins-at-end-of-stream.ts`,
    failing: /a loop that never rests|after its last poem was over/,
    hint: /the reactor called doRead of Reader \d+ times in its last second/,
    why: "its doRead ignores the end of the stream",
  },
  {
    id: "4.2",
    file: `${FIXTURES}/timeouts-never-cancelled.ts`,
    failing: /timeouts? fired on a finished poem: [23] fired \(ForgetfulTimedSocket at/,
    why: "its timeouts are never cancelled",
  },
  {
    id: "4.2",
    slow: true,
    file: `${FIXTURES}/timeout-only-prints.ts`,
    failing: /given up about 1 s in \(it was read to the end instead\)/,
    hint: /timeout-only-prints\.ts:\d+ fired at \d\.\d\d s, but the poem went on/,
    notFailing: /fired on a finished poem/,
    why: "its timeout only prints",
  },
  {
    id: "4.2",
    slow: true,
    file: `${FIXTURES}/timeouts-cancelled-at-once.ts`,
    failing: /given up about 1 s in \(it was read to the end instead\)/,
    hint: /was cancelled, the last at \d\.\d\d s, before any poem had ended/,
    why: "it cancels every timeout as it makes it",
  },
];

// Independent runs, most of them waiting on servers and timers: several at a time, the
// slow ones first (the unchanged countdown counts for 5 s, a 4.2 answer that reads the slow
// poem whole takes 6 s), so that the quick ones fill in around them.
Deno.test(`exercise: ${ANSWERS.length} answers, ours and others, each judged right`, async () => {
  const answers = ANSWERS.toSorted((a, b) => Number(b.slow ?? false) - Number(a.slow ?? false));
  const judged = await inParallel(
    answers,
    PARALLEL_CHECKS,
    (answer) => judge(answer.id, answer.file, answer.args),
  );
  const problems = answers.flatMap((answer, index) => misjudged(answer, judged[index]));
  assert.deepEqual(problems, []);
});

// The command itself: "Checking FILE:", then "passed" and exit 0, or "failed" and exit 1.
Deno.test("deno task exercise ID FILE: passed and exit 0, or failed, hints and exit 1", async () => {
  const [passing, failing] = await Promise.all([
    exercise(["3.2", `${FIXTURES}/looping-alias.ts`]),
    exercise(["3.1", `${FIXTURES}/countdowns-each-stops.ts`]),
  ]);
  assert.equal(passing.code, 0, texts(passing).join("\n") + passing.stderr);
  assert.ok(texts(passing).includes(`Checking ${FIXTURES}/looping-alias.ts:`));
  assert.equal(texts(passing).at(-1), "passed");
  assert.equal(failing.code, 1, texts(failing).join("\n") + failing.stderr);
  assert.ok(texts(failing).includes("failed: one check"), texts(failing).join("\n"));
  assert.ok(texts(failing).some((line) => line.startsWith("    hint: ")));
});

// Both idle answers at once: each verdict must come soon after its own idle moment.
Deno.test("exercises 3.1, 3.2: a reactor never stopped fails within 2.5 s of going idle, naming its last callback", async () => {
  const idleCases = [
    { check: checkThreeCounters, file: "countdowns-never-stop.ts" },
    { check: checkCountdownLoopingCall, file: "looping-reactor-left-running.ts" },
  ];
  await Promise.all(idleCases.map(async ({ check, file }) => {
    const lines: string[] = [];
    const report = new Report((line) => lines.push(line));
    const started = performance.now();
    await check(report, `${FIXTURES}/${file}`, []);
    const tookMs = performance.now() - started;
    report.finish();
    assert.equal(report.passing, false);
    const idle = lines.find((line) => line.includes("its reactor had nothing left to do from"));
    assert.ok(idle, lines.join("\n"));
    const last = /\(the last callback was (.+)\)$/.exec(idle)?.[1];
    assert.ok(last !== undefined, idle);
    assert.ok(
      lines.some((line) => line.includes(`hint: Nobody called reactor.stop(): after ${last} ran`)),
      lines.join("\n"),
    );
    // The trace's clock starts with the program: the verdict came soon after the idle moment.
    const idleMs = Number(/from (\d+\.\d+) s on/.exec(idle)?.[1]) * 1000;
    assert.ok(tookMs - idleMs < 2500, `${file}: ${tookMs} ms in all, idle from ${idleMs} ms`);
  }));
});

Deno.test("a file that never ends is stopped at the time limit and fails", async () => {
  const report = new Report(() => {});
  const run = await runLearnerFile(report, `${FIXTURES}/alive-after-reactor.ts`, [], 1000);
  assert.equal(run.timedOut, true);
  assert.equal(run.signal, "SIGKILL");
  assert.equal(report.passing, false);
});

Deno.test("a LoopingCall that never stops is named when the time limit stops it", async () => {
  const lines: string[] = [];
  const report = new Report((line) => lines.push(line));
  const run = await runLearnerFile(report, `${FIXTURES}/looping-forever.ts`, [], 1500);
  report.finish();
  assert.equal(run.timedOut, true);
  assert.ok(
    lines.some((line) =>
      /^ {4}hint: LoopingCall of .*looping-forever\.ts:\d+ ran \d+ times, about every 0\.0\d s, and was still running at the time limit/
        .test(line)
    ),
    lines.join("\n"),
  );
});

Deno.test("type errors are a note, not a failure", async () => {
  const lines: string[] = [];
  const report = new Report((line) => lines.push(line));
  // Written at run time: a file with a type error in the tree would fail `deno check .`.
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(file, 'const count: number = "3";\nconsole.log(count);\n');
    noteTypeErrors(report, await typeErrors(file));
  } finally {
    await Deno.remove(file);
  }
  assert.ok(report.passing);
  assert.match(lines[0], /^ {2}note: deno check finds 1 type error in it \(they do not fail/);
  assert.ok(
    lines[0].includes(
      `TS2322 [ERROR]: Type 'string' is not assignable to type 'number'. (${file}:1:7)`,
    ),
    lines[0],
  );
  assert.deepEqual(await typeErrors("basic/countdown.ts"), []);
});

Deno.test("without arguments, it lists every exercise and what the checker does", async () => {
  const outcome = await exercise([]);
  assert.equal(outcome.code, 0);
  const lines = texts(outcome);
  const ids = lines.flatMap((line) => /^Exercise (\d\.\d):/.exec(line)?.[1] ?? []);
  assert.deepEqual(ids, ["2.1", "2.2", "2.3", "3.1", "3.2", "4.1", "4.2"]);
  assert.equal(lines.filter((line) => line.startsWith("  start from: ")).length, 7);
  assert.equal(lines.filter((line) => line.startsWith("  the checker: ")).length, 7);
  assert.ok(lines.some((line) => line.includes("--timeout S, before the ports")));
});

Deno.test("an exercise with nothing to run shows its question and our answer", async () => {
  const outcome = await exercise(["2.2"]);
  assert.equal(outcome.code, 0);
  assert.match(texts(outcome)[0], /^Exercise 2\.2: Could the asynchronous client/);
  assert.ok(texts(outcome).some((line) => line.includes("solutions/part-2/README.md")));
});

for (
  const [args, error] of [
    [["9.9", "x.ts"], /^exercise\.ts: error: no exercise 9\.9: choose one of 2\.1, /],
    [["3.1", "no/such/file.ts"], /^exercise\.ts: error: no such file: no\/such\/file\.ts$/],
    [["2.1", "basic/countdown.ts"], /^exercise\.ts: error: exercise 2\.1 has nothing to run/],
  ] as const
) {
  Deno.test(`a mistake in the command exits 2: ${args.join(" ")}`, async () => {
    const outcome = await exercise([...args]);
    assert.equal(outcome.code, 2);
    const errors = outcome.stderr.trim().split("\n");
    assert.equal(errors.length, 1, outcome.stderr);
    assert.match(errors[0], error);
  });
}
