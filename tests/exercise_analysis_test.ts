/**
 * What the exercise checker reads in a program, whatever its wording: counters in its output
 * (tools/exercise/counters.ts), and the shape of a getPoetry in its source. Counters are
 * labelled, numbered, or look-alike lines told apart by their pace.
 *
 * Run: deno test tests/exercise_analysis_test.ts
 */

import assert from "node:assert/strict";
import { findCounters } from "../tools/exercise/counters.ts";
import { getPoetryShape } from "../tools/exercise/checks.ts";
import type { TimedLine } from "../tools/process.ts";

/** Lines of counters counting down from `from`, each at its pace (ms), merged by time. */
function ticks(
  paces: number[],
  label: (counter: number, value: number) => string,
  from = 5,
): TimedLine[] {
  const lines: TimedLine[] = [];
  for (const [counter, pace] of paces.entries()) {
    for (let value = from, at = 0; value >= 1; value--, at += pace) {
      lines.push({ text: label(counter, value), at });
    }
  }
  return lines.sort((a, b) => a.at - b.at);
}

const summary = (lines: TimedLine[]) =>
  findCounters(lines).map((counter) => [counter.values.join(","), counter.intervalMs, counter.down])
    .sort((a, b) => Number(a[1]) - Number(b[1]));

Deno.test("labelled counters are told apart by their labels", () => {
  const lines = ticks(
    [1000, 500, 300],
    (counter, value) => `${["slow", "mid", "fast"][counter]}: ${value} ...`,
  );
  assert.deepEqual(summary([{ text: "Start!", at: 0 }, ...lines, { text: "Stop!", at: 5000 }]), [
    ["5,4,3,2,1", 300, true],
    ["5,4,3,2,1", 500, true],
    ["5,4,3,2,1", 1000, true],
  ]);
});

Deno.test("a number in the label does not count", () => {
  const lines = ticks([130, 80, 50], (counter, value) => `counter ${counter + 1} says ${value}`, 4);
  assert.deepEqual(summary(lines), [
    ["4,3,2,1", 50, true],
    ["4,3,2,1", 80, true],
    ["4,3,2,1", 130, true],
  ]);
});

Deno.test("look-alike lines are told apart by their pace", () => {
  const lines = ticks([1000, 500, 300], (_, value) => `${value} ...`);
  assert.deepEqual(summary(lines), [
    ["5,4,3,2,1", 300, true],
    ["5,4,3,2,1", 500, true],
    ["5,4,3,2,1", 1000, true],
  ]);
});

Deno.test("a counter may count up, and durations are not counts", () => {
  const lines = [1, 2, 3].map((value, index) => ({
    text: `tick ${value} after 0.5 s`,
    at: index * 500,
  }));
  assert.deepEqual(summary(lines), [["1,2,3", 500, false]]);
});

Deno.test("numbers that do not step by one make no counter", () => {
  const lines = [5, 3, 1, 7].map((value, index) => ({ text: `${value}`, at: index * 100 }));
  assert.deepEqual(findCounters(lines), []);
  assert.deepEqual(findCounters([{ text: "2 ...", at: 0 }, { text: "1 ...", at: 10 }]), []);
});

Deno.test("a getPoetry that takes a callback or returns a promise, in any of its spellings", () => {
  const answers = [
    "export function getPoetry(address: Address, callback: PoemCallback): void {",
    "function getPoetry(address: Address): Promise<string> {",
    "async function get_poetry(port) {",
    "const getPoetry = (port: number) => new Promise<string>((resolve) => {",
    "const getPoetry: (a: Address, done: (poem: string) => void) => void = (a, done) => {",
    "class Poet {\n  getPoetry(address: Address): Promise<string> {\n    return x;\n  }\n}",
    "function getPoetry(address) {\n  return new Promise((resolve) => resolve(''));\n}",
  ];
  for (const source of answers) {
    assert.deepEqual(getPoetryShape(source), { defined: true, asynchronous: true }, source);
  }
  assert.deepEqual(getPoetryShape("function getPoetry(address: Address): string {\n}"), {
    defined: true,
    asynchronous: false,
  });
  assert.deepEqual(getPoetryShape("function fetchPoem(address, callback) {}"), {
    defined: false,
    asynchronous: false,
  });
});

Deno.test("look-alike lines are told apart by their pace, even when timers run late", () => {
  let seed = 7;
  const jitter = () => { // up to 30 ms late, the same every run
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return (seed / 2147483648) * 30;
  };
  const lines: TimedLine[] = [];
  for (const pace of [100, 200, 350]) {
    for (let value = 5, at = 0; value >= 1; value--, at += pace) {
      lines.push({ text: `${value} ...`, at: at + jitter() });
    }
  }
  lines.sort((a, b) => a.at - b.at);
  assert.deepEqual(
    findCounters(lines).map((
      counter,
    ) => [counter.values.join(","), Math.round(counter.intervalMs / 50) * 50]),
    [["5,4,3,2,1", 100], ["5,4,3,2,1", 200], ["5,4,3,2,1", 350]],
  );
});
