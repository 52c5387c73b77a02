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
import { type Outcome, ScriptProcess } from "../tools/process.ts";

const PERMISSIONS = ["-N", "-R", "--allow-run", "--allow-env=INIT_CWD", "--allow-write=.tmp"];
const FIXTURES = "tests/fixtures/exercises";

function exercise(args: string[]): Promise<Outcome> {
  return new ScriptProcess("tools/exercise.ts", args, { permissions: PERMISSIONS })
    .finished(90_000);
}

const texts = (outcome: Outcome): string[] => outcome.lines.map((line) => line.text);

async function assertPasses(id: string, file: string, args: string[] = []): Promise<void> {
  const outcome = await exercise([id, file, ...args]);
  const lines = texts(outcome);
  assert.equal(outcome.code, 0, lines.join("\n") + outcome.stderr);
  assert.equal(lines.at(-1), "passed");
  assert.ok(lines.includes(`Checking ${file}:`), lines.join("\n"));
  assert.ok(!lines.some((line) => line.startsWith("  FAIL")), lines.join("\n"));
}

/** Checks that the file fails, on a check whose line matches `failing`. */
async function assertFails(id: string, file: string, failing: RegExp): Promise<void> {
  const outcome = await exercise([id, file]);
  const lines = texts(outcome);
  assert.equal(outcome.code, 1, lines.join("\n") + outcome.stderr);
  assert.ok(lines.some((line) => line === "failed" || line.startsWith("failed: ")));
  const failures = lines.filter((line) => line.startsWith("  FAIL  "));
  assert.ok(failures.some((line) => failing.test(line)), failures.join("\n"));
  assert.ok(lines.some((line) => line.startsWith("    hint: ")), "a hint");
}

const PASSING: Array<[id: string, file: string, args?: string[]]> = [
  ["2.3", "solutions/part-2/get-poetry-callback.ts"],
  ["2.3", "solutions/part-2/get-poetry-promise.ts"],
  ["2.3", `${FIXTURES}/native-promises.ts`],
  ["3.1", "solutions/part-3/countdowns.ts", ["--scale", "0.2"]],
  ["3.1", `${FIXTURES}/counters-numbered.ts`],
  ["3.1", `${FIXTURES}/countdowns-alike.ts`],
  ["3.1", `${FIXTURES}/async-counters.ts`],
  ["3.2", "solutions/part-3/countdown-looping.ts", ["--interval", "0.2"]],
  ["3.2", `${FIXTURES}/looping-promise.ts`],
  ["3.2", `${FIXTURES}/looping-task-namespace.ts`],
  ["3.2", `${FIXTURES}/looping-alias.ts`],
  ["3.2", `${FIXTURES}/looping-with-count.ts`],
  ["4.1", "solutions/part-4/get-poetry-robust.ts"],
  ["4.1", `${FIXTURES}/quiet-skipper.ts`],
  ["4.1", `${FIXTURES}/robust-console-error.ts`],
  ["4.2", "solutions/part-4/get-poetry-timeout.ts"],
  ["4.2", `${FIXTURES}/one-deadline.ts`],
];
for (const [id, file, args] of PASSING) {
  Deno.test(`exercise ${id}: ${file} passes`, () => assertPasses(id, file, args));
}

const FAILING: Array<[id: string, file: string, failing: RegExp, why: string]> = [
  [
    "4.1",
    "twisted-client/get-poetry.ts",
    /the poem read to the end/,
    "it stops at the refused port",
  ],
  ["4.2", "twisted-client/get-poetry.ts", /given up about 1 s in/, "it knows no --timeout"],
  ["2.3", "blocking-client/get-poetry.ts", /one after another/, "one poem after another"],
  ["2.3", "async-client/get-poetry.ts", /defines getPoetry/, "no getPoetry of that shape"],
  [
    "3.1",
    `${FIXTURES}/countdowns-each-stops.ts`,
    /each counted to its end \(Countdown\.count \(every 0\.17 s\) was still due in 0\.\d\d s when the reactor stopped; Countdown\.count \(every 0\.30 s\) was still due/,
    "each counter stops the reactor at zero",
  ],
  [
    "4.2",
    `${FIXTURES}/timeouts-never-cancelled.ts`,
    /timeouts? fired on a finished poem: [23] fired \(ForgetfulTimedSocket at/,
    "its timeouts are never cancelled",
  ],
  [
    "3.1",
    `${FIXTURES}/throws.ts`,
    /an error nobody caught .*: Error: the counter broke/,
    "it throws",
  ],
];
for (const [id, file, failing, why] of FAILING) {
  Deno.test(`exercise ${id}: ${file} fails: ${why}`, () => assertFails(id, file, failing));
}

// basic/countdown.ts counts for 5 s: its two checks run side by side.
Deno.test("exercises 3.1 and 3.2: the unchanged countdown fails both", async () => {
  await Promise.all([
    assertFails("3.1", "basic/countdown.ts", /three counters, .*\(found 1: count every 1\.00 s/),
    assertFails("3.2", "basic/countdown.ts", /a LoopingCall ran \(none did\)/),
  ]);
});

for (
  const [id, file] of [["3.1", "countdowns-never-stop.ts"], [
    "3.2",
    "looping-reactor-left-running.ts",
  ]]
) {
  Deno.test(`exercise ${id}: ${file}, whose reactor is never stopped, fails within 2.5 s of going idle`, async () => {
    const lines: string[] = [];
    const report = new Report((line) => lines.push(line));
    const check = id === "3.1" ? checkThreeCounters : checkCountdownLoopingCall;
    const started = performance.now();
    await check(report, `${FIXTURES}/${file}`, []);
    const tookMs = performance.now() - started;
    report.finish();
    assert.equal(report.passing, false);
    const idle = lines.find((line) => line.includes("its reactor had nothing left to do from"));
    assert.ok(idle, lines.join("\n"));
    assert.ok(lines.some((line) => line.includes("hint: Nobody called reactor.stop()")));
    // The trace's clock starts with the program: the verdict came soon after the idle moment.
    const idleMs = Number(/from (\d+\.\d+) s on/.exec(idle)?.[1]) * 1000;
    assert.ok(tookMs - idleMs < 2500, `${tookMs} ms in all, idle from ${idleMs} ms`);
  });
}

Deno.test("a file that never ends is stopped at the time limit and fails", async () => {
  const report = new Report(() => {});
  const run = await runLearnerFile(report, `${FIXTURES}/alive-after-reactor.ts`, [], 1000);
  assert.equal(run.timedOut, true);
  assert.equal(run.signal, "SIGKILL");
  assert.equal(report.passing, false);
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
