/**
 * The trace: what the reactor and the socket layer did, recorded from inside,
 * so that a program can be drawn afterwards as the article's figures.
 *
 * Off unless asked for. When off, each place that could record costs one
 * check of the live binding {@linkcode tracing}:
 *
 * ```ts ignore
 * if (tracing) traceInstant("close", "socket", laneOfFd(fd), { fd });
 * ```
 *
 * When on (`deno task trace SCRIPT`, which preloads `preload.ts`), events are
 * kept in memory and written to the trace file, one JSON object a line, in
 * Chrome's Trace Event Format: before the thread blocks (a reactor's wait, a
 * blocking socket call, `sleep`), when many are kept, and when the program
 * ends. So a program that is killed while it waits has its events on disk.
 * Events are facts, never prose: the account and the pictures are drawn from
 * them by `tools/trace/`, not here.
 *
 * ## The events
 *
 * Every event has `name`, `cat`, `ph`, `ts` (µs, {@linkcode nowUs}), `pid`
 * (always 1), `tid` (a lane: {@linkcode MAIN_LANE}, or {@linkcode laneOfFd})
 * and `args`. The catalogue, by category (`cat`):
 *
 * - `reactor`, on the main lane:
 *   - `run` (i) `{ reactor: "SelectReactor" }`; `stop` (i); `crash` (i).
 *   - `wait` (B, then E): B has `{ readers: fd[], writers: fd[], timeout:
 *     seconds | null }`; E has `{ readable: fd[], writable: fd[] }`.
 *   - `ended` (i), when the loop ends: `{ readers: Holder[], writers:
 *     Holder[], delayed: { call: id, label, dueInS }[] }`, what was still
 *     registered or pending; a Holder is `{ fd, target?, logPrefix?, task? }`.
 *   - `interrupt` (i): Ctrl-C (SIGINT) reached the running reactor.
 *   - `unhandledError` (i) `{ logPrefix?, error }`: the reactor reported an
 *     error nobody caught.
 *   - `wait` B/E and `ended` use the descriptors' `fileno()`, -1 when it has none.
 * - `callback` (X, with `dur`), on the main lane: each call the reactor
 *   makes. `name` is the display label (`doRead of PoetrySocket (Task 1)`);
 *   args {@linkcode CallbackArgs}. A LoopingCall's tick has `kind:
 *   "loopingCall"`, its `loop` id, and (when a delayed call ran it) `call`,
 *   `dueUs`, `lateUs`; the tick `start()` makes at once has only `loop`.
 *   Callbacks may nest (a tick inside the callback that started the loop).
 * - `delayed` (i), on the main lane: `schedule` `{ call, label, delayS,
 *   dueUs, by? }` (`by`: the call id of the delayed call or LoopingCall
 *   running when it was scheduled; `from`: the scheduling site read from
 *   the stack, `Class.method`, `function` or `file.ts:line`; `loop`: the
 *   LoopingCall whose tick this is), `cancel` `{ call }`, `reset` `{ call,
 *   dueUs }` (for `reset` and `delay` alike). A delayed call's label is its
 *   function's name (`bound count` gives `count`; `Countdown.count` when it
 *   was scheduled from a method of the same name), else its `from`. A delayed call that runs is a `callback` with `kind:
 *   "delayedCall"`, its `call`, `dueUs` and `lateUs`.
 * - `socket`:
 *   - on the socket's lane, instants: `open` `{ fd, listening? }`,
 *     `connected` `{ fd, peer }`, `accepted` `{ fd, peer, listener }`,
 *     `recv` `{ fd, bytes }` (every recv that returned, 0 is end of stream),
 *     `sent` `{ fd, bytes }`, `close` `{ fd }`;
 *   - on the main lane, a call that really waited, as B then E:
 *     `recv`, `send`, `sendAll`, `accept`, `connect`, `select`, `poll`,
 *     `sleep`, with `{ fd?, bytes?, blocking: true }` (select and poll:
 *     `readers`, `writers`, `timeout` on B and `readable`, `writable` on E);
 *   - `wouldBlock` (C, a counter) `{ count }`: would-block errors so far,
 *     written with each flush when it changed.
 *   - `peer` is `[host, port]`; `sleep`'s B has `seconds`; a wait that ended
 *     by throwing (a timeout, a dead worker) has `error`, its message, on E.
 * - `process`, on the main lane: `uncaught` (i) `{ error }` (an error that
 *   reached the top), `exit` (i) `{ code? }`.
 *
 * @example
 * ```ts
 * import { nowUs, traceComplete, tracing } from "./mod.ts";
 * const start = tracing ? nowUs() : 0;
 * // ... the callback ...
 * if (tracing) traceComplete("doRead of Reader", "callback", start, { kind: "doRead" });
 * ```
 *
 * @module
 */

/** One event of Chrome's Trace Event Format, as written. */
export interface TraceEvent {
  /** What happened, or the callback's label. */
  name: string;
  /** Which part recorded it: `reactor`, `callback`, `delayed`, `socket`, `process`. */
  cat: string;
  /** Phase: `i` instant, `X` complete (with `dur`), `B`/`E` begin/end, `C` counter. */
  ph: "i" | "X" | "B" | "E" | "C" | "M";
  /** When, in µs on the monotonic clock ({@linkcode nowUs}). */
  ts: number;
  /** How long, in µs (`X` only). */
  dur?: number;
  /** Always 1: one program. */
  pid: number;
  /** The lane: {@linkcode MAIN_LANE} or {@linkcode laneOfFd}. */
  tid: number;
  /** Scope of an instant event: `t` (thread). */
  s?: "t" | "p" | "g";
  /** The facts of the event. */
  args?: Record<string, unknown>;
}

/** What a `callback` event's args say. */
export interface CallbackArgs {
  /** Which kind of call the reactor made. */
  kind:
    | "doRead"
    | "doWrite"
    | "connectionLost"
    | "delayedCall"
    | "trigger"
    | "loopingCall"
    | "whenRunning";
  /** The called object's class name, when it is an object. */
  target?: string;
  /** Its `logPrefix()`, when it has one. */
  logPrefix?: string;
  /** Its task number, when it has a numeric `task`, `taskNumber` or `taskNum` property. */
  task?: number;
  /** Its descriptor number at the time of the call. */
  fd?: number;
  /** A delayed call's id. */
  call?: number;
  /** A LoopingCall's id (its ticks). */
  loop?: number;
  /** A delayed call's due time, µs. */
  dueUs?: number;
  /** How late a delayed call ran, µs. */
  lateUs?: number;
  /** `ok`, `returned` (a reason to disconnect), or `threw`. */
  outcome?: "ok" | "returned" | "threw";
  /** The returned reason or thrown error, as one line. */
  detail?: string;
  /** A trigger's event and phase (`shutdown`, `before`). */
  event?: string;
  /** A trigger's phase. */
  phase?: string;
}

/**
 * The environment variable that names the trace file, read by `preload.ts`
 * (kept here so that tools can name it without importing the preload, whose
 * import turns tracing on).
 */
export const TRACE_FILE_VARIABLE = "TWISTED_TRACE_FILE";

/** The lane of the main thread, where the loop, the callbacks and blocking calls go. */
export const MAIN_LANE = 1;

/**
 * The lane of a descriptor's own events (ready, read, bytes).
 *
 * @example
 * ```ts
 * import { laneOfFd } from "./mod.ts";
 * console.log(laneOfFd(3)); // 1003
 * ```
 *
 * @param fd the descriptor
 * @returns its lane number
 */
export function laneOfFd(fd: number): number {
  return 1000 + fd;
}

/**
 * True while the program is traced. An imported live binding: check it before
 * building an event, so that tracing off costs one check.
 */
export let tracing = false;

/** Where flushed events go: written, one JSON object and a comma per line. */
export type TraceSink = (text: string) => void;

const FLUSH_AT_EVENTS = 4096;
let sink: TraceSink | undefined;
let kept: TraceEvent[] = [];
let wouldBlockCount = 0;
let wouldBlockWritten = 0;

/**
 * The trace's clock: µs since the program's time origin, monotonic.
 *
 * @example
 * ```ts
 * import { nowUs } from "./mod.ts";
 * const before = nowUs();
 * console.log(nowUs() >= before); // true
 * ```
 *
 * @returns microseconds, with a fractional part
 */
export function nowUs(): number {
  return performance.now() * 1000;
}

/**
 * Start recording: from now on {@linkcode tracing} is true, and flushed
 * events go to `to`.
 *
 * @example
 * ```ts
 * import { startTracing, stopTracing, traceInstant, MAIN_LANE } from "./mod.ts";
 * const lines: string[] = [];
 * startTracing((text) => lines.push(text));
 * traceInstant("run", "reactor", MAIN_LANE, { reactor: "SelectReactor" });
 * stopTracing();
 * console.log(lines.join("").includes('"run"')); // true
 * ```
 *
 * @param to where flushed events are written
 */
export function startTracing(to: TraceSink): void {
  sink = to;
  tracing = true;
}

/**
 * Stop recording, after writing what is kept.
 *
 * @example
 * ```ts
 * import { stopTracing, tracing } from "./mod.ts";
 * stopTracing();
 * console.log(tracing); // false
 * ```
 */
export function stopTracing(): void {
  flushTrace();
  tracing = false;
  sink = undefined;
}

/**
 * Keep one event. Prefer the helpers below; this is for any other phase.
 *
 * @example
 * ```ts
 * import { MAIN_LANE, nowUs, record } from "./mod.ts";
 * record({ name: "mark", cat: "process", ph: "i", s: "t", ts: nowUs(), pid: 1, tid: MAIN_LANE });
 * ```
 *
 * @param event the event
 */
export function record(event: TraceEvent): void {
  if (!tracing) return;
  kept.push(event);
  if (kept.length >= FLUSH_AT_EVENTS) flushTrace();
}

/**
 * An instant event: something happened at one moment.
 *
 * @example
 * ```ts
 * import { laneOfFd, traceInstant } from "./mod.ts";
 * traceInstant("recv", "socket", laneOfFd(3), { fd: 3, bytes: 30 });
 * ```
 *
 * @param name what happened
 * @param cat which part recorded it
 * @param tid the lane
 * @param args the facts
 */
export function traceInstant(
  name: string,
  cat: string,
  tid: number,
  args?: Record<string, unknown>,
): void {
  record({ name, cat, ph: "i", s: "t", ts: nowUs(), pid: 1, tid, args });
}

/**
 * A complete event on the main lane: something that began at `startUs` and
 * ends now.
 *
 * @example
 * ```ts
 * import { nowUs, traceComplete } from "./mod.ts";
 * const start = nowUs();
 * traceComplete("doRead of PoetrySocket (Task 1)", "callback", start, { kind: "doRead", task: 1 });
 * ```
 *
 * @param name the label
 * @param cat which part recorded it
 * @param startUs when it began ({@linkcode nowUs})
 * @param args the facts
 */
export function traceComplete(
  name: string,
  cat: string,
  startUs: number,
  args?: Record<string, unknown>,
): void {
  const now = nowUs();
  record({ name, cat, ph: "X", ts: startUs, dur: now - startUs, pid: 1, tid: MAIN_LANE, args });
}

/**
 * The beginning of a wait on the main lane. Written to the trace file at
 * once, because the thread may block in it for good.
 *
 * @example
 * ```ts
 * import { traceBegin, traceEnd } from "./mod.ts";
 * traceBegin("sleep", "socket", { blocking: true });
 * traceEnd("sleep", "socket");
 * ```
 *
 * @param name what waits (`wait`, `recv`, `select`, ...)
 * @param cat which part recorded it
 * @param args the facts known before the wait
 */
export function traceBegin(name: string, cat: string, args?: Record<string, unknown>): void {
  record({ name, cat, ph: "B", ts: nowUs(), pid: 1, tid: MAIN_LANE, args });
  flushTrace();
}

/**
 * The end of the wait that {@linkcode traceBegin} began.
 *
 * @example
 * ```ts
 * import { traceBegin, traceEnd } from "./mod.ts";
 * traceBegin("recv", "socket", { fd: 3, blocking: true });
 * traceEnd("recv", "socket", { fd: 3, bytes: 30 });
 * ```
 *
 * @param name the same name as its beginning
 * @param cat the same category
 * @param args the facts known after the wait
 */
export function traceEnd(name: string, cat: string, args?: Record<string, unknown>): void {
  record({ name, cat, ph: "E", ts: nowUs(), pid: 1, tid: MAIN_LANE, args });
}

/**
 * Count one would-block error (a non-blocking call that had to fail). The
 * count is written as a counter event with the next flush.
 *
 * @example
 * ```ts
 * import { countWouldBlock, tracing } from "./mod.ts";
 * if (tracing) countWouldBlock();
 * ```
 */
export function countWouldBlock(): void {
  wouldBlockCount++;
}

/**
 * Write the kept events to the sink now. Called before every wait and at
 * the end; a program rarely needs it.
 *
 * @example
 * ```ts
 * import { flushTrace } from "./mod.ts";
 * flushTrace(); // nothing kept, or not tracing: nothing written
 * ```
 */
export function flushTrace(): void {
  if (sink === undefined) return;
  if (wouldBlockCount !== wouldBlockWritten) {
    wouldBlockWritten = wouldBlockCount;
    kept.push({
      name: "wouldBlock",
      cat: "socket",
      ph: "C",
      ts: nowUs(),
      pid: 1,
      tid: MAIN_LANE,
      args: { count: wouldBlockCount },
    });
  }
  if (kept.length === 0) return;
  const events = kept;
  kept = [];
  let text = "";
  for (const event of events) text += JSON.stringify(event) + ",\n";
  sink(text);
}

/**
 * Describe who is being called, for a `callback` event's label and args:
 * its class, `logPrefix()` and task number (a numeric `task`, `taskNumber`
 * or `taskNum` property), never throwing.
 *
 * @example
 * ```ts
 * import { describeTarget } from "./mod.ts";
 * class PoetrySocket { task = 1; logPrefix() { return "PoetrySocket"; } }
 * console.log(describeTarget(new PoetrySocket()));
 * // { target: "PoetrySocket", logPrefix: "PoetrySocket", task: 1 }
 * ```
 *
 * @param target the object called
 * @returns its class, log prefix and task number, where it has them
 */
export function describeTarget(
  target: unknown,
): { target?: string; logPrefix?: string; task?: number } {
  const described: { target?: string; logPrefix?: string; task?: number } = {};
  if (typeof target !== "object" || target === null) return described;
  try {
    const name = (target as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === "string" && name !== "") described.target = name;
    const withPrefix = target as { logPrefix?: unknown };
    if (typeof withPrefix.logPrefix === "function") {
      const prefix: unknown = withPrefix.logPrefix();
      if (typeof prefix === "string") described.logPrefix = prefix;
    }
    const numbered = target as { task?: unknown; taskNumber?: unknown; taskNum?: unknown };
    const task = [numbered.task, numbered.taskNumber, numbered.taskNum]
      .find((value) => typeof value === "number");
    if (typeof task === "number") described.task = task;
  } catch {
    // A target that throws while being described is still called; it is just unnamed.
  }
  return described;
}
