/**
 * Reading a trace and making sense of it: the file that `deno task trace`
 * (and the exercise checker, while the program still runs) reads, turned
 * into a typed model of the run: the reactor's waits, the callbacks, the
 * delayed calls with their lifecycle, the blocking socket calls, and one
 * lane per descriptor. The account and the page are drawn from the model.
 *
 * The file may be unterminated (`[`, then one event a line, each with a
 * trailing comma, and no `]` when the program was killed or is still
 * running); a complete Trace Event Format file (`[...]` or
 * `{"traceEvents": [...]}`) reads too. A last line cut in the middle is
 * skipped.
 *
 * @example
 * ```ts
 * import { modelOfRun, parseTrace } from "./read.ts";
 * const events = parseTrace('[\n{"name":"run","cat":"reactor","ph":"i","ts":5,"pid":1,"tid":1},\n');
 * const run = modelOfRun(events);
 * console.log(run.reactor?.runUs); // 5
 * ```
 *
 * @module
 */

import { type CallbackArgs, MAIN_LANE, type TraceEvent } from "../../lib/trace/mod.ts";

export type { CallbackArgs, TraceEvent };

/**
 * The events of a trace file's text, in file order; tolerant of an
 * unterminated array and of a last line cut short.
 *
 * @example
 * ```ts
 * import { parseTrace } from "./read.ts";
 * console.log(parseTrace('{"traceEvents":[{"name":"x","cat":"c","ph":"i","ts":1,"pid":1,"tid":1}]}').length);
 * // 1
 * ```
 *
 * @param text the file's text
 * @returns the events
 */
export function parseTrace(text: string): TraceEvent[] {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    try {
      const whole = JSON.parse(trimmed) as { traceEvents?: unknown };
      if (Array.isArray(whole.traceEvents)) return whole.traceEvents.filter(isEvent);
    } catch {
      // Not a whole object: read it line by line below.
    }
  }
  const events: TraceEvent[] = [];
  for (const rawLine of text.split("\n")) {
    let line = rawLine.trim();
    if (line.startsWith("[")) line = line.slice(1).trim();
    if (line.endsWith("]")) line = line.slice(0, -1).trim();
    if (line.endsWith(",")) line = line.slice(0, -1);
    if (line === "") continue;
    try {
      const parsed: unknown = JSON.parse(line);
      if (isEvent(parsed)) events.push(parsed);
    } catch {
      // A line cut short by a kill, or not ours.
    }
  }
  return events;
}

function isEvent(value: unknown): value is TraceEvent {
  if (typeof value !== "object" || value === null) return false;
  const event = value as Record<string, unknown>;
  return typeof event.name === "string" && typeof event.ph === "string" &&
    typeof event.ts === "number";
}

/**
 * Read a trace file (see {@linkcode parseTrace}); a file that is missing or
 * not yet written gives no events.
 *
 * @example
 * ```ts
 * import { readTrace } from "./read.ts";
 * console.log(readTrace("/nonexistent/trace.json").length); // 0
 * ```
 *
 * @param path the file
 * @returns its events
 */
export function readTrace(path: string): TraceEvent[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return [];
  }
  return parseTrace(text);
}

/** One turn's wait in `select`/`poll`. */
export interface Wait {
  /** When it began, µs. */
  startUs: number;
  /** When it ended; undefined while it still waits (or the program died in it). */
  endUs?: number;
  /** The descriptors watched for reading. */
  readers: number[];
  /** The descriptors watched for writing. */
  writers: number[];
  /** Its timeout, seconds, or null for none. */
  timeout: number | null;
  /** The descriptors found ready for reading. */
  readable: number[];
  /** The descriptors found ready for writing. */
  writable: number[];
}

/** One call the reactor made (`callback` event). */
export interface Callback {
  /** Its label: `doRead of PoetrySocket (Task 1)`, `Countdown.count`. */
  label: string;
  /** When it began, µs. */
  startUs: number;
  /** How long it ran, µs. */
  durUs: number;
  /** What the event says about it. */
  args: CallbackArgs;
  /** False when it ran inside another callback (a LoopingCall started in one). */
  topLevel: boolean;
}

/** A delayed call from scheduling to its end. */
export interface DelayedLife {
  /** Its id. */
  call: number;
  /** Its label. */
  label: string;
  /** Where it was scheduled from, if known. */
  from?: string;
  /** The id of the delayed call or LoopingCall that scheduled it. */
  by?: number;
  /** The LoopingCall it is a tick of. */
  loop?: number;
  /** When it was scheduled, µs. */
  scheduledUs: number;
  /** The delay asked for, seconds. */
  delayS: number;
  /** When it is due (after the latest reset), µs. */
  dueUs: number;
  /** Each reset or delay: when, and the new due time. */
  resets: { atUs: number; dueUs: number }[];
  /** When it was cancelled. */
  cancelledUs?: number;
  /** When it ran. */
  firedUs?: number;
  /** How late it ran, µs. */
  lateUs?: number;
  /** How long it ran, µs. */
  durUs?: number;
}

/** A socket call on the main lane that really waited (blocking `recv`, `sleep`, ...). */
export interface BlockingCall {
  /** The call: `recv`, `send`, `sendAll`, `accept`, `connect`, `select`, `poll`, `sleep`. */
  name: string;
  /** When it began, µs. */
  startUs: number;
  /** When it returned; undefined if it never did. */
  endUs?: number;
  /** Its descriptor, if it has one. */
  fd?: number;
  /** Bytes moved, if known. */
  bytes?: number;
  /** The label of the callback it blocked in, if any. */
  insideCallback?: string;
}

/** The events of one descriptor's lane. */
export interface SocketLane {
  /** The descriptor. */
  fd: number;
  /** Who held it, from the callbacks made on it (`PoetrySocket (Task 1)`). */
  holder?: string;
  /** When it was opened (or first seen), µs. */
  firstUs: number;
  /** When it was closed, if it was. */
  closedUs?: number;
  /** The socket events on its lane (`open`, `connected`, `recv`, `sent`, `close`...). */
  events: TraceEvent[];
  /** Each `recv` that returned: when, and how many bytes (0: end of stream). */
  reads: { atUs: number; bytes: number }[];
  /** Bytes received, from `recv` events. */
  bytesIn: number;
  /** Bytes sent, from `sent` events. */
  bytesOut: number;
  /** When a wait found it ready (readable or writable), µs. */
  readyUs: number[];
}

/** What the reactor did and how it ended. */
export interface ReactorRun {
  /** Its class: `SelectReactor`, `PollReactor`. */
  name: string;
  /** When `run()` was called, µs. */
  runUs: number;
  /** When `stop()` was called. */
  stopUs?: number;
  /** When `crash()` was called. */
  crashUs?: number;
  /** When Ctrl-C reached it. */
  interruptUs?: number;
  /** When its loop ended, and what was still registered or pending. */
  ended?: {
    atUs: number;
    readers: Holder[];
    writers: Holder[];
    delayed: { call?: number; label?: string; dueInS: number }[];
  };
}

/** A descriptor still registered, as the `ended` event says. */
export interface Holder {
  /** Its descriptor. */
  fd: number;
  /** Its class. */
  target?: string;
  /** Its log prefix. */
  logPrefix?: string;
  /** Its task number. */
  task?: number;
}

/** The model of one traced run. */
export interface RunModel {
  /** The first event's time, µs. */
  startUs: number;
  /** The last event's end, µs. */
  endUs: number;
  /** The reactor, if one ran. */
  reactor?: ReactorRun;
  /** The waits, in order. */
  waits: Wait[];
  /** The callbacks, in order of start. */
  callbacks: Callback[];
  /** The delayed calls, by id order. */
  delayed: DelayedLife[];
  /** The socket calls that waited, in order. */
  blocking: BlockingCall[];
  /**
   * One lane per socket seen, by descriptor number then time: a number reused after a
   * close gets a new lane.
   */
  sockets: SocketLane[];
  /** Errors the reactor reported. */
  unhandled: { atUs: number; logPrefix?: string; error: string }[];
  /** An error that reached the top. */
  uncaught?: { atUs: number; error: string };
  /** The program's exit, if it was recorded. */
  exit?: { atUs: number; code?: number };
  /** Would-block errors counted, the last counter value. */
  wouldBlock: number;
  /** How many events the model was made from. */
  eventCount: number;
}

/**
 * The model of a run, from its events (any order; a live, unfinished trace
 * works too: its open wait has no `endUs`).
 *
 * @example
 * ```ts
 * import { modelOfRun } from "./read.ts";
 * const run = modelOfRun([
 *   { name: "wait", cat: "reactor", ph: "B", ts: 10, pid: 1, tid: 1, args: { readers: [], writers: [], timeout: null } },
 * ]);
 * console.log(run.waits[0].endUs); // undefined: still waiting
 * ```
 *
 * @param unsorted the events
 * @returns the model
 */
export function modelOfRun(unsorted: readonly TraceEvent[]): RunModel {
  const events = [...unsorted].sort((a, b) => a.ts - b.ts);
  const run: RunModel = {
    startUs: events[0]?.ts ?? 0,
    endUs: 0,
    waits: [],
    callbacks: [],
    delayed: [],
    blocking: [],
    sockets: [],
    unhandled: [],
    wouldBlock: 0,
    eventCount: events.length,
  };
  const openWaits: Wait[] = [];
  const openBlocking = new Map<string, BlockingCall[]>();
  const delayed = new Map<number, DelayedLife>();
  // A descriptor number is reused once closed (the lowest free one is handed out): each
  // socket gets its own lane, the current one for each number kept here.
  const lanes = new Map<number, SocketLane>();
  const allLanes: SocketLane[] = [];
  const laneOf = (fd: number, atUs: number): SocketLane => {
    let lane = lanes.get(fd);
    if (lane === undefined || (lane.closedUs !== undefined && atUs > lane.closedUs)) {
      lane = { fd, firstUs: atUs, events: [], reads: [], bytesIn: 0, bytesOut: 0, readyUs: [] };
      lanes.set(fd, lane);
      allLanes.push(lane);
    }
    return lane;
  };
  for (const event of events) {
    const args = event.args ?? {};
    run.endUs = Math.max(run.endUs, event.ts + (event.dur ?? 0));
    if (event.cat === "reactor") {
      readReactorEvent(run, event, args, openWaits, laneOf);
    } else if (event.cat === "callback" && event.ph === "X") {
      const callbackArgs = args as unknown as CallbackArgs;
      run.callbacks.push({
        label: event.name,
        startUs: event.ts,
        durUs: event.dur ?? 0,
        args: callbackArgs,
        topLevel: true,
      });
      if (callbackArgs.kind === "delayedCall" || callbackArgs.kind === "loopingCall") {
        const life = callbackArgs.call === undefined ? undefined : delayed.get(callbackArgs.call);
        if (life !== undefined) {
          life.firedUs = event.ts;
          life.lateUs = callbackArgs.lateUs;
          life.durUs = event.dur;
        }
      }
      if (typeof callbackArgs.fd === "number" && callbackArgs.fd >= 0) {
        const lane = laneOf(callbackArgs.fd, event.ts);
        lane.holder ??= holderName(callbackArgs);
      }
    } else if (event.cat === "delayed") {
      readDelayedEvent(event, args, delayed);
    } else if (event.cat === "socket") {
      readSocketEvent(run, event, args, openBlocking, laneOf);
    } else if (event.cat === "process") {
      if (event.name === "uncaught") run.uncaught = { atUs: event.ts, error: String(args.error) };
      if (event.name === "exit") {
        run.exit = {
          atUs: event.ts,
          code: typeof args.code === "number" ? args.code : undefined,
        };
      }
    }
  }
  markNested(run.callbacks);
  for (const call of run.blocking) {
    call.insideCallback = callbackAround(run.callbacks, call.startUs)?.label;
  }
  run.delayed = [...delayed.values()].sort((a, b) => a.call - b.call);
  run.sockets = allLanes.sort((a, b) => a.fd - b.fd || a.firstUs - b.firstUs);
  return run;
}

function readReactorEvent(
  run: RunModel,
  event: TraceEvent,
  args: Record<string, unknown>,
  openWaits: Wait[],
  laneOf: (fd: number, atUs: number) => SocketLane,
): void {
  switch (event.name) {
    case "run":
      run.reactor ??= { name: String(args.reactor ?? "reactor"), runUs: event.ts };
      break;
    case "stop":
      if (run.reactor) run.reactor.stopUs ??= event.ts;
      break;
    case "crash":
      if (run.reactor) run.reactor.crashUs ??= event.ts;
      break;
    case "interrupt":
      if (run.reactor) run.reactor.interruptUs ??= event.ts;
      break;
    case "unhandledError":
      run.unhandled.push({
        atUs: event.ts,
        logPrefix: typeof args.logPrefix === "string" ? args.logPrefix : undefined,
        error: String(args.error),
      });
      break;
    case "ended":
      if (run.reactor) {
        run.reactor.ended = {
          atUs: event.ts,
          readers: (args.readers ?? []) as Holder[],
          writers: (args.writers ?? []) as Holder[],
          delayed: (args.delayed ?? []) as { call?: number; label?: string; dueInS: number }[],
        };
      }
      break;
    case "wait":
      if (event.ph === "B") {
        const wait: Wait = {
          startUs: event.ts,
          readers: numbers(args.readers),
          writers: numbers(args.writers),
          timeout: typeof args.timeout === "number" ? args.timeout : null,
          readable: [],
          writable: [],
        };
        run.waits.push(wait);
        openWaits.push(wait);
      } else if (event.ph === "E") {
        const wait = openWaits.pop();
        if (wait === undefined) break;
        wait.endUs = event.ts;
        wait.readable = numbers(args.readable);
        wait.writable = numbers(args.writable);
        for (const fd of new Set([...wait.readable, ...wait.writable])) {
          if (fd >= 0) laneOf(fd, event.ts).readyUs.push(event.ts);
        }
      }
      break;
  }
}

function readDelayedEvent(
  event: TraceEvent,
  args: Record<string, unknown>,
  delayed: Map<number, DelayedLife>,
): void {
  const call = typeof args.call === "number" ? args.call : undefined;
  if (call === undefined) return;
  if (event.name === "schedule") {
    delayed.set(call, {
      call,
      label: String(args.label ?? "anonymous"),
      from: typeof args.from === "string" ? args.from : undefined,
      by: typeof args.by === "number" ? args.by : undefined,
      loop: typeof args.loop === "number" ? args.loop : undefined,
      scheduledUs: event.ts,
      delayS: Number(args.delayS ?? 0),
      dueUs: Number(args.dueUs ?? event.ts),
      resets: [],
    });
    return;
  }
  const life = delayed.get(call);
  if (life === undefined) return;
  if (event.name === "cancel") life.cancelledUs = event.ts;
  if (event.name === "reset") {
    life.dueUs = Number(args.dueUs ?? life.dueUs);
    life.resets.push({ atUs: event.ts, dueUs: life.dueUs });
  }
}

function readSocketEvent(
  run: RunModel,
  event: TraceEvent,
  args: Record<string, unknown>,
  openBlocking: Map<string, BlockingCall[]>,
  laneOf: (fd: number, atUs: number) => SocketLane,
): void {
  if (event.ph === "C" && event.name === "wouldBlock") {
    run.wouldBlock = Number(args.count ?? run.wouldBlock);
    return;
  }
  const fd = typeof args.fd === "number" ? args.fd : undefined;
  const bytes = typeof args.bytes === "number" ? args.bytes : undefined;
  if (event.ph === "B" && event.tid === MAIN_LANE) {
    const call: BlockingCall = { name: event.name, startUs: event.ts, fd, bytes };
    run.blocking.push(call);
    const open = openBlocking.get(event.name) ?? [];
    open.push(call);
    openBlocking.set(event.name, open);
    return;
  }
  if (event.ph === "E" && event.tid === MAIN_LANE) {
    const call = openBlocking.get(event.name)?.pop();
    if (call === undefined) return;
    call.endUs = event.ts;
    if (bytes !== undefined) call.bytes = bytes;
    call.fd ??= fd;
    return;
  }
  if (event.ph === "i" && fd !== undefined && fd >= 0) {
    const lane = laneOf(fd, event.ts);
    lane.events.push(event);
    if (event.name === "recv") {
      lane.reads.push({ atUs: event.ts, bytes: bytes ?? 0 });
      if (bytes !== undefined) lane.bytesIn += bytes;
    }
    if (event.name === "sent" && bytes !== undefined) lane.bytesOut += bytes;
    if (event.name === "close") lane.closedUs = event.ts;
  }
}

function numbers(value: unknown): number[] {
  return Array.isArray(value) ? value.filter((item) => typeof item === "number") : [];
}

/** `PoetrySocket (Task 1)`: who a callback was made on. */
function holderName(args: CallbackArgs): string | undefined {
  const name = args.target ?? args.logPrefix;
  if (name === undefined) return undefined;
  return args.task === undefined ? name : `${name} (Task ${args.task})`;
}

/** Callbacks inside another callback's span are not top level. */
function markNested(callbacks: Callback[]): void {
  let outerEndUs = -Infinity;
  for (const callback of callbacks) {
    if (callback.startUs < outerEndUs) {
      callback.topLevel = false;
    } else {
      outerEndUs = callback.startUs + callback.durUs;
    }
  }
}

/**
 * The top-level callback running at `atUs`, if any.
 *
 * @example
 * ```ts
 * import { callbackAround, modelOfRun } from "./read.ts";
 * const run = modelOfRun([
 *   { name: "tick", cat: "callback", ph: "X", ts: 10, dur: 5, pid: 1, tid: 1, args: { kind: "delayedCall" } },
 * ]);
 * console.log(callbackAround(run.callbacks, 12)?.label); // tick
 * ```
 *
 * @param callbacks the run's callbacks, in order of start
 * @param atUs the moment
 * @returns the callback, or undefined
 */
export function callbackAround(callbacks: readonly Callback[], atUs: number): Callback | undefined {
  let low = 0;
  let high = callbacks.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (callbacks[middle].startUs <= atUs) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  for (let index = found; index >= 0; index--) {
    const callback = callbacks[index];
    if (!callback.topLevel) continue;
    return callback.startUs + callback.durUs >= atUs ? callback : undefined;
  }
  return undefined;
}

/**
 * Since when the reactor has been waiting with nothing to wait for: no
 * descriptor watched and no delayed call pending, in a wait with no timeout
 * that has not ended (so nothing will ever wake it but Ctrl-C, or
 * something outside the reactor). For the exercise checker, reading a live
 * trace: a reactor nobody stopped.
 *
 * @example
 * ```ts
 * import { idleSinceUs, modelOfRun } from "./read.ts";
 * const run = modelOfRun([
 *   { name: "run", cat: "reactor", ph: "i", ts: 1, pid: 1, tid: 1, args: { reactor: "SelectReactor" } },
 *   { name: "wait", cat: "reactor", ph: "B", ts: 10, pid: 1, tid: 1, args: { readers: [], writers: [], timeout: null } },
 * ]);
 * console.log(idleSinceUs(run)); // 10
 * ```
 *
 * @param run the model of the run so far
 * @returns µs on the trace's clock, or undefined if the reactor is not idle for good
 */
export function idleSinceUs(run: RunModel): number | undefined {
  const last = run.waits.at(-1);
  if (last === undefined || last.endUs !== undefined) return undefined;
  return isEmptyWait(last) ? last.startUs : undefined;
}

/**
 * Whether a wait watched nothing and had no timeout: no descriptor and no
 * delayed call could ever end it.
 *
 * @example
 * ```ts
 * import { isEmptyWait } from "./read.ts";
 * console.log(isEmptyWait({ startUs: 0, readers: [], writers: [], timeout: null, readable: [], writable: [] }));
 * // true
 * ```
 *
 * @param wait the wait
 * @returns true when it waited for nothing
 */
export function isEmptyWait(wait: Wait): boolean {
  return wait.readers.length === 0 && wait.writers.length === 0 && wait.timeout === null;
}

/**
 * The name of a lane, for pictures and Perfetto: `main thread`, or `fd 3:
 * PoetrySocket (Task 1)`.
 *
 * @example
 * ```ts
 * import { laneName } from "./read.ts";
 * console.log(laneName({ fd: 3, holder: "PoetrySocket (Task 1)", firstUs: 0, events: [], reads: [], bytesIn: 0, bytesOut: 0, readyUs: [] }));
 * // fd 3: PoetrySocket (Task 1)
 * ```
 *
 * @param lane a descriptor's lane
 * @returns its name
 */
export function laneName(lane: SocketLane): string {
  return lane.holder === undefined ? `fd ${lane.fd}` : `fd ${lane.fd}: ${lane.holder}`;
}
