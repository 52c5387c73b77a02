/**
 * The solutions of Part 3's exercises: `solutions/part-3/countdowns.ts` (three
 * countdowns interleaved by time, on a Clock and as a script) and
 * `countdown-looping.ts` (the output of `basic/countdown.ts`, with a LoopingCall).
 *
 * Run: deno test -N -R --allow-run --allow-env --allow-sys tests/solutions_part3_test.ts
 */

import assert from "node:assert/strict";
import { Clock } from "../lib/reactor/task.ts";
import { Countdown, PACES } from "../solutions/part-3/countdowns.ts";
import { runScript, type TimedLine } from "../tools/process.ts";

/** Runs `f` with console.log writing to the returned list instead. */
function capturing(f: (lines: string[]) => void): string[] {
  const lines: string[] = [];
  const original = console.log;
  console.log = (...parts: unknown[]) => lines.push(parts.join(" "));
  try {
    f(lines);
  } finally {
    console.log = original;
  }
  return lines;
}

/** Each countdown's lines, in order: 5 to 1, then done. */
function linesOf(name: string): string[] {
  return ["5 ...", "4 ...", "3 ...", "2 ...", "1 ...", "done"].map((text) => `${name}: ${text}`);
}

Deno.test("Part 3 countdowns: on a Clock, each line at its time, then all done at 5 s", () => {
  const clock = new Clock();
  const printedAt = new Map<string, number>();
  let allDoneAt = -1;
  let running = PACES.length;
  const STEP = 0.01;
  const lines = capturing((lines) => {
    for (const [name, interval] of PACES) {
      new Countdown(name, interval, clock, () => {
        if (--running === 0) allDoneAt = clock.seconds();
      }).start();
    }
    for (let step = 0; step < 600; step++) {
      const seen = lines.length;
      clock.advance(STEP);
      for (const line of lines.slice(seen)) printedAt.set(line, clock.seconds());
    }
  });
  assert.equal(lines.length, 18);
  for (const [name, interval] of PACES) {
    assert.deepEqual(lines.filter((line) => line.startsWith(`${name}:`)), linesOf(name));
    linesOf(name).forEach((line, tick) => {
      // the first line comes from start(), before the clock moves
      const at = tick === 0 ? 0 : printedAt.get(line) as number;
      // each tick is scheduled from the time its predecessor ran: at most a step late each
      const due = tick * interval;
      assert.ok(at >= due - 1e-9 && at <= due + tick * STEP + 1e-9, `${line} at ${at}`);
    });
  }
  assert.ok(allDoneAt >= 5 - 1e-9 && allDoneAt <= 5 + 5 * STEP + 1e-9, `all done at ${allDoneAt}`);
  assert.equal(clock.getDelayedCalls().length, 0, "nothing left scheduled");
});

Deno.test("Part 3 countdowns: the script on the reactor, scaled, stops when all are done", async () => {
  const outcome = await runScript("solutions/part-3/countdowns.ts", ["--scale", "0.1"], 10_000);
  assert.equal(outcome.stderr, "");
  assert.equal(outcome.code, 0);
  const lines = outcome.lines.map((line) => line.text);
  assert.equal(lines[0], "Start!");
  assert.equal(lines.at(-1), "Stop!");
  assert.equal(lines.length, 20);
  for (const [name] of PACES) {
    assert.deepEqual(lines.filter((line) => line.startsWith(`${name}:`)), linesOf(name));
  }
  const at = (text: string) => (outcome.lines.find((line) => line.text === text) as TimedLine).at;
  // fast ends at 0.15 s, medium at 0.25 s, slow at 0.5 s (scaled by 0.1)
  assert.ok(at("fast: done") < at("medium: done"));
  assert.ok(at("medium: done") < at("slow: done"));
  const span = at("slow: done") - at("slow: 5 ...");
  assert.ok(span >= 450 && span < 2000, `slow took ${span} ms, 500 expected`);
});

Deno.test("Part 3 countdown with LoopingCall: the output of basic/countdown.ts", async () => {
  const [looping, original] = await Promise.all([
    runScript("solutions/part-3/countdown-looping.ts", ["--interval", "0.1"], 10_000),
    runScript("basic/countdown.ts", [], 15_000),
  ]);
  for (const outcome of [looping, original]) {
    assert.equal(outcome.stderr, "");
    assert.equal(outcome.code, 0);
  }
  const lines = looping.lines.map((line) => line.text);
  assert.deepEqual(lines, original.lines.map((line) => line.text));
  assert.deepEqual(lines, ["Start!", "5 ...", "4 ...", "3 ...", "2 ...", "1 ...", "Stop!"]);
  // five intervals from "5 ..." to "Stop!", one to each line: 0.5 s at 0.1 s
  const span = looping.lines[6].at - looping.lines[1].at;
  assert.ok(span >= 450 && span < 2000, `${span} ms, 500 expected`);
});

Deno.test("Part 3 solutions: usage", async () => {
  const countdowns = await runScript("solutions/part-3/countdowns.ts", ["--scale", "x"], 10_000);
  assert.equal(countdowns.code, 2);
  assert.equal(countdowns.stderr, "countdowns.ts: error: --scale must be a number, not 'x'.\n");
  const looping = await runScript("solutions/part-3/countdown-looping.ts", ["5"], 10_000);
  assert.equal(looping.code, 2);
  assert.equal(
    looping.stderr,
    "countdown-looping.ts: error: No arguments expected, only options.\n",
  );
});
