/**
 * Timelines of a poetry client's run: one row per task, time across, a mark where bytes
 * arrived. They are the article's figures of synchronous and asynchronous tasks (Part
 * 1's Figures 1 and 3), come out of a real run. The rows are drawn from the client's
 * trace ({@linkcode tracksFromTrace}: one row per socket, a mark per read); the totals
 * are what the client printed.
 *
 * @example
 * ```ts
 * import { drawTimeline, summarizeTraced } from "./timeline.ts";
 * import { modelOfRun } from "./trace/read.ts";
 * const trace = modelOfRun([
 *   { name: "recv", cat: "socket", ph: "i", ts: 0, pid: 1, tid: 1003, args: { fd: 3, bytes: 623 } },
 *   { name: "close", cat: "socket", ph: "i", ts: 1e6, pid: 1, tid: 1003, args: { fd: 3 } },
 * ]);
 * const lines = [{ text: "Got 1 poems in 0:00:01.000000", at: 1000 }];
 * console.log(drawTimeline(summarizeTraced("blocking", lines, trace), 20).join("\n"));
 * ```
 * @module
 */

import { parsePoemsLine } from "./client_output.ts";
import type { TimedLine } from "./process.ts";
import type { RunModel } from "./trace/read.ts";

/** What one task did, in milliseconds from the start of its trace. */
export interface TaskTrack {
  /** The task's number, from 1. */
  task: number;
  /** When bytes were read, and how many. */
  arrivals: Array<{ at: number; bytes: number }>;
  /** When the task's socket was opened. */
  startedAt?: number;
  /** When the task ended: its socket's close, or its last read. */
  endedAt: number;
}

/** A client's run: its totals as it printed them, its tracks as its trace tells them. */
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
  /** Milliseconds the timeline covers: the reported total, or the last track's end. */
  spanMs: number;
}

/** The totals a client printed: its `Got N poems in T` line, and its tasks' bytes. */
function totalsOf(name: string, lines: TimedLine[]): Omit<ClientRun, "tracks" | "spanMs"> {
  const total = lines.findLast((line) => parsePoemsLine(line.text) !== null);
  const reported = total && parsePoemsLine(total.text);
  if (!reported) throw new Error(`${name}: no "Got N poems in" line`);
  let bytes = 0;
  for (const { text } of lines) {
    const got = /^Task \d+: got (\d+) bytes of poetry from /.exec(text);
    if (got) bytes += Number(got[1]);
  }
  return { name, seconds: reported.seconds, poems: reported.poems, bytes };
}

/**
 * The tracks of a run as its trace tells them: one per socket that received bytes (or
 * was read by a `doRead`), numbered by the task the reactor's callbacks name, or else
 * in the order the sockets were opened; a mark at each read that returned bytes (or
 * each `doRead`, when the socket layer recorded no reads). Time zero is the trace's
 * first event.
 *
 * @example
 * ```ts
 * import { tracksFromTrace } from "./timeline.ts";
 * import { modelOfRun } from "./trace/read.ts";
 * const run = modelOfRun([
 *   { name: "recv", cat: "socket", ph: "i", ts: 0, pid: 1, tid: 1003, args: { fd: 3, bytes: 10 } },
 *   { name: "recv", cat: "socket", ph: "i", ts: 5000, pid: 1, tid: 1003, args: { fd: 3, bytes: 0 } },
 * ]);
 * console.log(tracksFromTrace(run)[0].arrivals); // [ { at: 0, bytes: 10 } ]
 * ```
 *
 * @param run the model of the client's traced run
 * @returns the tracks, by task; empty when the trace has no socket read in it
 */
export function tracksFromTrace(run: RunModel): TaskTrack[] {
  const ms = (us: number) => (us - run.startUs) / 1000;
  const tracks: TaskTrack[] = [];
  for (const lane of run.sockets) {
    let arrivals = lane.reads.filter((read) => read.bytes > 0)
      .map((read) => ({ at: ms(read.atUs), bytes: read.bytes }));
    if (arrivals.length === 0) {
      arrivals = run.callbacks
        .filter((callback) =>
          callback.args.kind === "doRead" && callback.args.fd === lane.fd &&
          callback.startUs >= lane.firstUs && callback.startUs <= (lane.closedUs ?? Infinity)
        )
        .map((callback) => ({ at: ms(callback.startUs + callback.durUs), bytes: 0 }));
    }
    if (arrivals.length === 0) continue;
    const task = /\(Task (\d+)\)$/.exec(lane.holder ?? "");
    tracks.push({
      task: task ? Number(task[1]) : tracks.length + 1,
      arrivals,
      startedAt: ms(lane.firstUs),
      endedAt: Math.max(ms(lane.closedUs ?? 0), ...arrivals.map((arrival) => arrival.at)),
    });
  }
  return tracks.sort((a, b) => a.task - b.task);
}

/**
 * A client's run: its tracks from its trace (see {@linkcode tracksFromTrace}), its
 * totals (time, poems, bytes) as the client printed them.
 *
 * @example
 * ```ts
 * import { summarizeTraced } from "./timeline.ts";
 * import { modelOfRun } from "./trace/read.ts";
 * const lines = [{ text: "Got 1 poems in 0:00:01.000000", at: 1000 }];
 * console.log(summarizeTraced("blocking", lines, modelOfRun([])).spanMs); // 1000
 * ```
 *
 * @param name what to call the client
 * @param lines its output lines
 * @param run the model of its traced run
 * @returns the run
 */
export function summarizeTraced(name: string, lines: TimedLine[], run: RunModel): ClientRun {
  const totals = totalsOf(name, lines);
  const tracks = tracksFromTrace(run);
  const spanMs = Math.max(totals.seconds * 1000, ...tracks.map((track) => track.endedAt));
  return { ...totals, tracks, spanMs };
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
