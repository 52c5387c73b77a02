/**
 * Timelines of a poetry client's run, drawn from its output lines and the times they
 * arrived: one row per task, time across, a mark where bytes arrived. They are the
 * article's figures of synchronous and asynchronous tasks (Part 1's Figures 1 and 3),
 * come out of a real run.
 *
 * @example
 * ```ts
 * import { drawTimeline, summarize } from "./timeline.ts";
 * const lines = [
 *   { text: "Task 1: get poetry from: 127.0.0.1:10000", at: 100 },
 *   { text: "Task 1: got 623 bytes of poetry from 127.0.0.1:10000 in 0:00:01.000000", at: 1100 },
 *   { text: "Got 1 poems in 0:00:01.000000", at: 1101 },
 * ];
 * const run = summarize("blocking", lines);
 * console.log(drawTimeline(run, 20).join("\n"));
 * ```
 * @module
 */

import { parsePoemsLine } from "./client_output.ts";
import type { TimedLine } from "./process.ts";

/** What one task did, in milliseconds from the client's start. */
export interface TaskTrack {
  /** The task's number, from 1. */
  task: number;
  /** When bytes were reported, and how many. */
  arrivals: Array<{ at: number; bytes: number }>;
  /** When the client said it started the task, if it says so (the blocking client). */
  startedAt?: number;
  /** When the task ended: its last report. */
  endedAt: number;
}

/** A client's run, as its output tells it. */
export interface ClientRun {
  /** What to call the client. */
  name: string;
  /** The total the client reported (`Got N poems in ...`), in seconds. */
  seconds: number;
  /** Poems it reported. */
  poems: number;
  /** Bytes it reported receiving, over all tasks. */
  bytes: number;
  /** One track per task, by task number. */
  tracks: TaskTrack[];
  /** Milliseconds from the client's start to its `Got` line (time zero: its own start). */
  spanMs: number;
}

/**
 * Reads a client's output lines. Time zero is the client's own start, found from its
 * `Got N poems in T` line: that line's arrival less T.
 */
export function summarize(name: string, lines: TimedLine[]): ClientRun {
  const total = lines.findLast((line) => parsePoemsLine(line.text) !== null);
  const reported = total && parsePoemsLine(total.text);
  if (!total || !reported) throw new Error(`${name}: no "Got N poems in" line`);
  const { poems, seconds } = reported;
  const zero = total.at - seconds * 1000;
  const tracks = new Map<number, TaskTrack>();
  const track = (task: number, at: number) => {
    const found = tracks.get(task) ?? { task, arrivals: [], endedAt: at };
    found.endedAt = Math.max(found.endedAt, at);
    tracks.set(task, found);
    return found;
  };
  let bytes = 0;
  for (const { text, at } of lines) {
    const time = at - zero;
    const got = /^Task (\d+): got (\d+) bytes of poetry from /.exec(text);
    if (got) {
      track(Number(got[1]), time).arrivals.push({ at: time, bytes: Number(got[2]) });
      bytes += Number(got[2]);
      continue;
    }
    const start = /^Task (\d+): get poetry from: /.exec(text);
    if (start) track(Number(start[1]), time).startedAt = time;
    const finished = /^Task (\d+) finished$/.exec(text);
    if (finished) track(Number(finished[1]), time);
  }
  return {
    name,
    seconds,
    poems,
    bytes,
    tracks: [...tracks.values()].sort((a, b) => a.task - b.task),
    spanMs: seconds * 1000,
  };
}

/** The column of a time, on a row `width` columns wide covering `spanMs`. */
function columnOf(at: number, spanMs: number, width: number): number {
  return Math.max(0, Math.min(width - 1, Math.floor((at / spanMs) * width)));
}

/**
 * Draws one row per task, `width` columns covering the client's run: `█` where bytes
 * arrived, `─` where the task was under way (from its start, or its first bytes, to its
 * end) without bytes reported, blank elsewhere. A time scale ends it.
 */
export function drawTimeline(run: ClientRun, width = 60): string[] {
  const span = Math.max(run.spanMs, 1);
  const rows = run.tracks.map((track) => {
    const cells = new Array<string>(width).fill(" ");
    const first = track.startedAt ?? track.arrivals[0]?.at ?? track.endedAt;
    for (
      let column = columnOf(first, span, width);
      column <= columnOf(track.endedAt, span, width);
      column++
    ) {
      cells[column] = "─";
    }
    for (const arrival of track.arrivals) cells[columnOf(arrival.at, span, width)] = "█";
    return `Task ${track.task} |${cells.join("")}|`;
  });
  const label = (seconds: number) => `${seconds.toFixed(1)} s`;
  const end = label(run.seconds);
  const scale = `       0 s${" ".repeat(Math.max(1, width + 2 - 3 - end.length))}${end}`;
  return [...rows, scale];
}

/** The columns a row has marks or dashes in, as [first, last]; null for an empty row. */
export function occupied(row: string): [number, number] | null {
  const cells = row.slice(row.indexOf("|") + 1, row.lastIndexOf("|"));
  const first = cells.search(/[█─]/);
  if (first < 0) return null;
  const last = cells.length - 1 - [...cells].reverse().join("").search(/[█─]/);
  return [first, last];
}
