/**
 * Finding counters in a program's output, whatever words it prints around the numbers:
 * the Part 3 exercises are judged by their counters' numbers and timing, not wording.
 *
 * A counter is a run of at least three lines whose numbers go up or down by one at a
 * time. Lines are first grouped by their text around one number (`slow: 5 ...` and
 * `slow: 4 ...` share `slow: # ...`), which tells labelled counters apart. When that
 * finds fewer than three counters, lines that all look alike (`5 ...`) are untangled by
 * their timing instead: each counter ticks at its own steady pace.
 *
 * @example
 * ```ts
 * import { findCounters } from "./counters.ts";
 *
 * const lines = [
 *   { text: "a 3", at: 0 }, { text: "b 3", at: 0 },
 *   { text: "a 2", at: 100 }, { text: "b 2", at: 200 },
 *   { text: "a 1", at: 200 }, { text: "b 1", at: 400 },
 * ];
 * findCounters(lines).map((counter) => counter.intervalMs); // [100, 200]
 * ```
 *
 * @module
 */

import type { TimedLine } from "../process.ts";

/**
 * One counter found in the output.
 *
 * @example
 * ```ts
 * import type { Counter } from "./counters.ts";
 * const describe = (counter: Counter) =>
 *   `${counter.values.join(", ")}, a count every ${counter.intervalMs} ms`;
 * ```
 */
export interface Counter {
  /** Its numbers, in order: each one more, or each one less, than the last. */
  values: number[];
  /** When each number's line arrived, in milliseconds. */
  times: number[];
  /** The indexes of its lines in the output. */
  lineIndexes: number[];
  /** The median time between two of its lines, in milliseconds. */
  intervalMs: number;
  /** Whether it counts down. */
  down: boolean;
}

/** A line's whole numbers, with where they are in it. */
interface NumberToken {
  value: number;
  start: number;
  end: number;
}

/** One line that holds a number: its index, time and the number. */
interface Entry {
  lineIndex: number;
  at: number;
  value: number;
}

/** The fewest lines that make a counter. */
const MIN_COUNTS = 3;

function wholeNumbers(text: string): NumberToken[] {
  const tokens: NumberToken[] = [];
  for (const match of text.matchAll(/\d+(?:\.\d+)?/g)) {
    if (match[0].includes(".")) continue; // 0.5 s is a duration, not a count
    tokens.push({
      value: Number(match[0]),
      start: match.index,
      end: match.index + match[0].length,
    });
  }
  return tokens;
}

function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The entries as a counter, if their numbers step by one, all the same way. */
function asCounter(entries: Entry[]): Counter | null {
  if (entries.length < MIN_COUNTS) return null;
  const step = entries[1].value - entries[0].value;
  if (step !== 1 && step !== -1) return null;
  for (let index = 1; index < entries.length; index++) {
    if (entries[index].value - entries[index - 1].value !== step) return null;
  }
  const times = entries.map((entry) => entry.at);
  return {
    values: entries.map((entry) => entry.value),
    times,
    lineIndexes: entries.map((entry) => entry.lineIndex),
    intervalMs: median(times.slice(1).map((at, index) => at - times[index])),
    down: step === -1,
  };
}

/** Counters told apart by the text around their numbers. */
function countersByLabel(lines: TimedLine[]): Counter[] {
  const groups = new Map<string, Entry[]>();
  for (const [lineIndex, line] of lines.entries()) {
    for (const token of wholeNumbers(line.text)) {
      const key = `${line.text.slice(0, token.start)}#${line.text.slice(token.end)}`;
      const group = groups.get(key) ?? [];
      group.push({ lineIndex, at: line.at, value: token.value });
      groups.set(key, group);
    }
  }
  const candidates = [...groups.values()].flatMap((group) => asCounter(group) ?? []);
  // Longest first; a line belongs to one counter only.
  candidates.sort((a, b) => b.values.length - a.values.length);
  const taken = new Set<number>();
  const counters: Counter[] = [];
  for (const candidate of candidates) {
    if (candidate.lineIndexes.some((index) => taken.has(index))) continue;
    for (const index of candidate.lineIndexes) taken.add(index);
    counters.push(candidate);
  }
  return counters;
}

/**
 * Counters told apart by timing, for lines that look alike: each line with one number
 * joins the counter it continues (the next number, at that counter's pace), or starts one.
 */
function countersByTiming(lines: TimedLine[]): Counter[] {
  const chains: Entry[][] = [];
  for (const [lineIndex, line] of lines.entries()) {
    const tokens = wholeNumbers(line.text);
    if (tokens.length !== 1) continue;
    const entry = { lineIndex, at: line.at, value: tokens[0].value };
    const continued = chains.filter((chain) => {
      const last = chain[chain.length - 1];
      const step = chain.length === 1 ? entry.value - last.value : chain[1].value - chain[0].value;
      return Math.abs(step) === 1 && entry.value - last.value === step;
    });
    // Of the counters with a pace, the one this line comes closest to on time.
    let best: Entry[] | undefined;
    let bestError = Infinity;
    let bestPace = 0;
    for (const chain of continued.filter((chain) => chain.length > 1)) {
      const last = chain[chain.length - 1];
      const pace = (last.at - chain[0].at) / (chain.length - 1);
      const error = Math.abs(entry.at - last.at - pace);
      if (error < bestError) [best, bestError, bestPace] = [chain, error, pace];
    }
    const unpaced = continued.find((chain) => chain.length === 1);
    if (best !== undefined && (bestError <= Math.max(0.5 * bestPace, 50) || !unpaced)) {
      best.push(entry);
    } else if (unpaced) {
      unpaced.push(entry); // a counter with no pace yet
    } else {
      chains.push([entry]);
    }
  }
  return chains.flatMap((chain) => asCounter(chain) ?? []);
}

/**
 * The counters in a program's output: runs of at least three lines whose numbers step by
 * one. Labelled counters are told apart by their labels, look-alike ones by their pace.
 *
 * @example
 * ```ts
 * import { findCounters } from "./counters.ts";
 * const counters = findCounters([
 *   { text: "5 ...", at: 0 }, { text: "4 ...", at: 1000 }, { text: "3 ...", at: 2000 },
 * ]);
 * // one counter: values [5, 4, 3], intervalMs 1000, down true
 * ```
 *
 * @param lines the output, with the time each line arrived
 * @returns the counters, in the order of their first lines
 */
export function findCounters(lines: TimedLine[]): Counter[] {
  const byLabel = countersByLabel(lines);
  const byTiming = byLabel.length >= 3 ? [] : countersByTiming(lines);
  const found = byTiming.length > byLabel.length ? byTiming : byLabel;
  return found.toSorted((a, b) => a.lineIndexes[0] - b.lineIndexes[0]);
}
