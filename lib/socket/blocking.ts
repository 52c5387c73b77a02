/**
 * Calls that block: the one loop every call that may wait runs on the main thread, and
 * `sleep`. A call tries; when it would have to wait, it waits on the event counter
 * (`waits.ts`) and tries again, until it is done or its deadline has passed. A call
 * that really waited is one begin/end pair in the trace, from its first wait to its
 * end; one that did not wait records nothing, so an untraced program pays one check.
 *
 * `socket.ts` runs its `recv`, `send`, `sendAll`, `accept` and `connect` through
 * {@linkcode runCall}, in Python's three modes (blocking, non-blocking, a timeout), and
 * waits for the worker's answers with {@linkcode waitWhile}; `select.ts` runs `select`
 * and `poll` through {@linkcode waitUntilDone}.
 *
 * @example
 * ```ts ignore
 * import { AGAIN, waitUntilDone } from "./blocking.ts";
 * const bytes = waitUntilDone(() => rings.take(1024) ?? AGAIN, 2000, () => {
 *   throw new SocketTimeout();
 * }, { name: "recv", begin: (fd) => ({ fd }), end: (bytes) => ({ bytes: bytes.length }) }, 3);
 * ```
 * @module
 */

import { cheapWouldBlock, SocketTimeout } from "./errors.ts";
import { ANSWER_SPIN_MS, currentEvent, waitForEvent } from "./waits.ts";
import { countWouldBlock, traceBegin, traceEnd, tracing } from "../trace/mod.ts";

/**
 * What an attempt returns when it would have to wait.
 *
 * @example
 * ```ts ignore
 * const attempt = () => rings.take(1024) ?? AGAIN;
 * ```
 */
export const AGAIN: unique symbol = Symbol("again");

/**
 * One try of a call: its result, or {@linkcode AGAIN} when it would have to wait.
 *
 * @example
 * ```ts ignore
 * const attempt: Attempt<number> = () => rings.unread() > 0 ? rings.unread() : AGAIN;
 * ```
 */
export type Attempt<T> = () => T | typeof AGAIN;

/**
 * How a call that really waits is told in the trace: its name, and what its begin and
 * its end say, from the call's `context` (a socket call's descriptor, say). The context
 * lets one such object, made once, serve every call: an untraced call builds nothing.
 *
 * @example
 * ```ts ignore
 * const traced: TracedCall<Uint8Array, number> = {
 *   name: "recv",
 *   begin: (fd) => ({ fd, blocking: true }),
 *   end: (bytes, fd) => ({ fd, bytes: bytes.length }),
 * };
 * ```
 */
export interface TracedCall<T, C = undefined> {
  /** The call's name: `recv`, `select`, ... */
  name: string;
  /** What is known before the wait (descriptors, a timeout). */
  begin(context: C): Record<string, unknown>;
  /** What the call's result says (bytes moved, descriptors found ready). */
  end(result: T, context: C): Record<string, unknown>;
  /** What the end of a call that threw says besides the error (its descriptor, say). */
  failed?(context: C): Record<string, unknown>;
}

/**
 * Tries `attempt` until it gives a result, blocking the thread on the event counter
 * between tries: as long as it takes when `timeoutMs` is undefined, else at most
 * `timeoutMs` from the first wait (a call that needs no wait never reads the clock);
 * then `timedOut` gives the call's answer, or throws. The counter is read before each
 * try, so a change made while trying is not slept through. `traced` says, from
 * `context`, how a call that waits is told in the trace. `spinMs` is how long each
 * wait watches the counter before it sleeps (`waits.ts`).
 *
 * @example
 * ```ts ignore
 * const ready = waitUntilDone(look, 5000, () => [], traced, undefined); // at most 5 s
 * ```
 */
export function waitUntilDone<T, C>(
  attempt: Attempt<T>,
  timeoutMs: number | undefined,
  timedOut: () => T,
  traced: TracedCall<T, C>,
  context: C,
  spinMs?: number,
): T {
  let began = false;
  let deadline = Infinity; // with a timeout, set at the first wait
  try {
    for (;;) {
      const seen = currentEvent();
      let result = attempt();
      let waitMs: number | undefined;
      if (result === AGAIN && timeoutMs !== undefined) {
        const now = performance.now();
        if (deadline === Infinity) deadline = now + timeoutMs;
        waitMs = deadline - now;
        if (waitMs <= 0) result = timedOut();
      }
      if (result !== AGAIN) {
        if (began) traceEnd(traced.name, "socket", traced.end(result, context));
        return result;
      }
      if (!began && tracing) {
        began = true;
        traceBegin(traced.name, "socket", traced.begin(context));
      }
      waitForEvent(seen, waitMs, spinMs);
    }
  } catch (error) {
    if (began) {
      traceEnd(traced.name, "socket", { ...traced.failed?.(context), error: String(error) });
    }
    throw error;
  }
}

/**
 * Tries `attempt` once, as a call in non-blocking mode does: its result, or
 * `WouldBlock` (EWOULDBLOCK), counted in the trace.
 *
 * @example
 * ```ts ignore
 * const bytes = tryOnce(() => rings.take(1024) ?? AGAIN); // WouldBlock when empty
 * ```
 */
export function tryOnce<T>(attempt: Attempt<T>): T {
  const result = attempt();
  if (result !== AGAIN) return result;
  if (tracing) countWouldBlock();
  throw cheapWouldBlock();
}

/**
 * The calls of a socket that can wait, by the names the trace gives them.
 *
 * @example
 * ```ts ignore
 * const call: WaitingCall = "recv";
 * ```
 */
export type WaitingCall = "recv" | "send" | "sendAll" | "accept" | "connect";

/** What the trace says a finished call moved: its byte count, when it has one. */
function bytesMoved(result: unknown): { bytes?: number } {
  if (result instanceof Uint8Array) return { bytes: result.length };
  return typeof result === "number" ? { bytes: result } : {};
}

/** How a socket call that waits is told in the trace, from its descriptor. */
function socketCallTrace(name: WaitingCall): TracedCall<unknown, number> {
  return {
    name,
    begin: (fd) => ({ fd, blocking: true }),
    end: (result, fd) => ({ fd, ...bytesMoved(result) }),
    failed: (fd) => ({ fd }),
  };
}

/** One per call name, made once: a call that waits builds nothing for the trace. */
const SOCKET_CALLS: Record<WaitingCall, TracedCall<unknown, number>> = {
  recv: socketCallTrace("recv"),
  send: socketCallTrace("send"),
  sendAll: socketCallTrace("sendAll"),
  accept: socketCallTrace("accept"),
  connect: socketCallTrace("connect"),
};

/** A socket call's answer when its timeout has passed. */
function timedOut(): never {
  throw new SocketTimeout();
}

/**
 * Runs a socket call's attempt in the mode its `timeout` says, as Python's: `0`
 * (non-blocking) tries once ({@linkcode tryOnce}); `null` waits as long as it takes;
 * seconds wait at most that long from the first wait, then fail with `SocketTimeout`.
 * In the trace the call is named with the socket's descriptor `fd`, and the bytes it
 * moved.
 *
 * @example
 * ```ts ignore
 * const bytes = runCall("recv", fd, 2.5, () => rings.take(1024) ?? AGAIN);
 * ```
 */
export function runCall<T>(
  call: WaitingCall,
  fd: number,
  timeout: number | null,
  attempt: Attempt<T>,
  spinMs?: number,
): T {
  if (timeout === 0) return tryOnce(attempt);
  const timeoutMs = timeout === null ? undefined : timeout * 1000;
  return waitUntilDone<T, number>(attempt, timeoutMs, timedOut, SOCKET_CALLS[call], fd, spinMs);
}

/**
 * Blocks the thread while `condition` holds: the wait for the worker's answer to a
 * request (a bind, a listen, the close of a listener), which comes almost always, and
 * soon. Not traced: it is part of the call that made the request.
 *
 * @example
 * ```ts ignore
 * waitWhile(() => Atomics.load(header, HEADER.STATE) === STATE.BINDING);
 * ```
 */
export function waitWhile(condition: () => boolean): void {
  for (;;) {
    const seen = currentEvent();
    if (!condition()) return;
    waitForEvent(seen, undefined, ANSWER_SPIN_MS);
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Blocks the whole thread for `seconds`, like Python's `time.sleep`: no timer, no
 * callback, nothing else runs meanwhile.
 *
 * @example
 * ```ts
 * import { sleep } from "./blocking.ts";
 * sleep(0.1); // the thread does nothing else for 100 ms
 * ```
 */
export function sleep(seconds: number): void {
  if (!(seconds >= 0)) throw new RangeError("sleep length must be non-negative");
  if (!tracing || seconds === 0) {
    Atomics.wait(sleepCell, 0, 0, seconds * 1000);
    return;
  }
  traceBegin("sleep", "socket", { seconds, blocking: true });
  try {
    Atomics.wait(sleepCell, 0, 0, seconds * 1000);
  } finally {
    traceEnd("sleep", "socket");
  }
}
