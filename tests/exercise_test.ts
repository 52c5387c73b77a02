/**
 * `deno task exercise`: our answers in `solutions/` pass, other correct answers in other
 * styles (tests/fixtures/exercises/) pass, the unchanged starting scripts fail, a file
 * that throws or never ends fails, and mistakes in the command exit 2.
 *
 * Run: deno test -A tests/exercise_test.ts
 */

import assert from "node:assert/strict";
import { Report } from "../tools/exercise/report.ts";
import { runLearnerFile } from "../tools/exercise/run.ts";
import { type Outcome, ScriptProcess } from "../lib/process.ts";

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
  ["3.2", "solutions/part-3/countdown-looping.ts", ["--interval", "0.2"]],
  ["3.2", `${FIXTURES}/looping-promise.ts`],
  ["4.1", "solutions/part-4/get-poetry-robust.ts"],
  ["4.1", `${FIXTURES}/quiet-skipper.ts`],
  ["4.2", "solutions/part-4/get-poetry-timeout.ts"],
  ["4.2", `${FIXTURES}/one-deadline.ts`],
];
for (const [id, file, args] of PASSING) {
  Deno.test(`exercise ${id}: ${file} passes`, () => assertPasses(id, file, args));
}

Deno.test("exercise 3.2: the unchanged countdown fails, for want of a LoopingCall", () =>
  assertFails("3.2", "basic/countdown.ts", /makes a LoopingCall/));

Deno.test("exercise 4.1: the unchanged reactor client fails: it stops at the refused port", () =>
  assertFails("4.1", "twisted-client/get-poetry.ts", /the poem read to the end/));

Deno.test("exercise 4.2: the unchanged reactor client fails: it knows no --timeout", () =>
  assertFails("4.2", "twisted-client/get-poetry.ts", /given up about 1 s in/));

Deno.test("exercise 2.3: the blocking client fails: one poem after another", () =>
  assertFails("2.3", "blocking-client/get-poetry.ts", /one after another/));

Deno.test("exercise 2.3: the async client as it stands fails: no getPoetry of that shape", () =>
  assertFails("2.3", "async-client/get-poetry.ts", /defines getPoetry/));

Deno.test("a file that throws fails, and its stack trace is named", () =>
  assertFails("3.1", `${FIXTURES}/throws.ts`, /a stack trace on stderr/));

Deno.test("a file that never ends is stopped at the time limit and fails", async () => {
  const report = new Report();
  const run = await runLearnerFile(report, "basic/simple.ts", [], 1000);
  assert.equal(run.timedOut, true);
  assert.equal(run.signal, "SIGKILL");
  assert.equal(report.passing, false);
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
