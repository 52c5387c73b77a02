/**
 * Waiting for sockets: `select` and a `Poll` object, as Python's `select` module has.
 *
 * Both block the thread until a socket is ready, or a timeout passes; each has an async
 * twin that waits without blocking it, for an event loop to use, and that also returns
 * (with nothing ready, perhaps) when `wakeUp()` is called.
 *
 * `select` looks at every socket it is given, every time. `Poll` remembers the
 * registered sockets and looks only at those that changed since the last call (the
 * worker queues them) and those it reported ready last time, so its cost grows with the
 * ready sockets, not the registered ones.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { select } from "./select.ts";
 * const socket = new Socket();
 * socket.connect(["127.0.0.1", 10000]);
 * const [readable] = select([socket], [], [], 5); // waits at most 5 s
 * console.log(readable.length ? "something to read" : "timed out");
 * socket.close();
 * ```
 * @module
 */

import { AGAIN, type TracedCall, waitUntilDone } from "./blocking.ts";
import { control } from "./control.ts";
import { localChangeListeners, openSockets, socketForFd, socketForId } from "./descriptors.ts";
import { BadDescriptor, SocketError } from "./errors.ts";
import { HEADER } from "./header.ts";
import { CHANGES, SharedQueue } from "./queue.ts";
import {
  type HasFileno,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLNVAL,
  POLLOUT,
  POLLPRI,
} from "./readiness.ts";
import type { Socket } from "./socket.ts";
import { currentEvent, waitForEventAsync, wakeUpCount } from "./waits.ts";

/** The ready subsets of `select`'s three lists. */
export type SelectResult<T> = [readable: T[], writable: T[], exceptional: T[]];

/** Bits that make a socket readable, writable, or exceptional for `select`. */
const READ_BITS = POLLIN | POLLHUP | POLLERR;
const WRITE_BITS = POLLOUT | POLLERR;
const EXCEPT_BITS = POLLPRI;

/** A descriptor, given as itself or as anything with a `fileno()`. */
function fdOf(item: HasFileno | number): number {
  return typeof item === "number" ? item : item.fileno();
}

function socketOf(item: HasFileno | number): Socket {
  const fd = fdOf(item);
  const socket = fd >= 0 ? socketForFd(fd) : undefined;
  if (!socket) throw new BadDescriptor();
  return socket;
}

function readyNow<T extends HasFileno>(
  readers: T[],
  writers: T[],
  exceptional: T[],
): SelectResult<T> {
  const pick = (items: T[], bits: number) =>
    items.filter((item) => (socketOf(item).readiness() & bits) !== 0);
  return [pick(readers, READ_BITS), pick(writers, WRITE_BITS), pick(exceptional, EXCEPT_BITS)];
}

function isReady<T>([r, w, x]: SelectResult<T>): boolean {
  return r.length > 0 || w.length > 0 || x.length > 0;
}

function hasAny(ready: unknown[]): boolean {
  return ready.length > 0;
}

function secondsOf(timeoutMs?: number): number | undefined {
  return timeoutMs === undefined ? undefined : timeoutMs / 1000;
}

/** A timeout in seconds (none: wait as long as it takes) in ms; a RangeError if negative. */
function checkTimeoutSeconds(timeoutSeconds?: number): number | undefined {
  if (timeoutSeconds === undefined || timeoutSeconds === null) return undefined;
  if (!(timeoutSeconds >= 0)) throw new RangeError("timeout must be non-negative");
  return timeoutSeconds * 1000;
}

/**
 * Looks with `look` until `ready` says yes, or the timeout passes, blocking the thread
 * on the event counter in between (`blocking.ts`): the loop of `select` and `poll`.
 * When the time passes first it gives what it last saw. A wait that really waits is
 * recorded in the trace as `traced` says, from `context`.
 */
function waitUntilReady<R, C>(
  look: () => R,
  ready: (result: R) => boolean,
  timeoutSeconds: number | undefined,
  traced: TracedCall<R, C>,
  context: C,
): R {
  const timeoutMs = checkTimeoutSeconds(timeoutSeconds);
  let lastLook: R;
  const attempt = () => {
    lastLook = look();
    return ready(lastLook) ? lastLook : AGAIN;
  };
  return waitUntilDone(attempt, timeoutMs, () => lastLook, traced, context);
}

function fdsOf(items: HasFileno[]): number[] {
  return items.map((item) => item.fileno());
}

/** `waitUntilReady` without blocking the thread; it also returns on `wakeUp()`. */
async function waitUntilReadyAsync<R>(
  look: () => R,
  ready: (result: R) => boolean,
  timeoutSeconds?: number,
): Promise<R> {
  const timeoutMs = checkTimeoutSeconds(timeoutSeconds);
  const deadline = timeoutMs === undefined ? Infinity : performance.now() + timeoutMs;
  const wakeUps = wakeUpCount();
  for (;;) {
    const seen = currentEvent();
    const result = look();
    const remaining = deadline - performance.now();
    if (ready(result) || remaining <= 0 || wakeUpCount() !== wakeUps) return result;
    await waitForEventAsync(seen, remaining === Infinity ? undefined : remaining);
  }
}

/**
 * Blocks until some of the given sockets are ready: readers to read (or accept),
 * writers to write. Returns the ready subsets. With a timeout (in seconds) it returns
 * empty lists when the time passes first; with a timeout of 0 it only looks. It accepts
 * sockets, or anything with a `fileno()` that gives a socket's descriptor.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { select } from "./select.ts";
 * const socket = new Socket();
 * socket.connect(["127.0.0.1", 10000]);
 * const [readable, writable] = select([socket], [socket], [], 0); // just look
 * console.log(readable.length, writable.length);
 * socket.close();
 * ```
 */
export function select<T extends HasFileno>(
  readers: T[],
  writers: T[],
  exceptional: T[],
  timeoutSeconds?: number,
): SelectResult<T> {
  const look = () => readyNow(readers, writers, exceptional);
  return waitUntilReady(look, isReady, timeoutSeconds, {
    name: "select",
    begin: () => ({
      readers: fdsOf(readers),
      writers: fdsOf(writers),
      timeout: timeoutSeconds ?? null,
    }),
    end: ([readable, writable]) => ({ readable: fdsOf(readable), writable: fdsOf(writable) }),
  }, undefined);
}

/**
 * `select`, waiting without blocking the thread.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { selectAsync } from "./select.ts";
 * const socket = new Socket();
 * socket.connect(["127.0.0.1", 10000]);
 * const [readable] = await selectAsync([socket], [], [], 1);
 * console.log(readable.length);
 * socket.close();
 * ```
 */
export function selectAsync<T extends HasFileno>(
  readers: T[],
  writers: T[],
  exceptional: T[],
  timeoutSeconds?: number,
): Promise<SelectResult<T>> {
  return waitUntilReadyAsync(
    () => readyNow(readers, writers, exceptional),
    isReady,
    timeoutSeconds,
  );
}

/** Polls that have something registered, to be told which sockets changed. */
const activePolls = new Set<Poll>();

/** The queue of sockets the worker changed (`queue.ts`); made with the first poll. */
let changes: SharedQueue | null = null;

/** Hands the sockets the worker changed since last time to the polls that watch them. */
function drainChanges(): void {
  changes ??= new SharedQueue(control, CHANGES);
  changes.consume((at) => {
    const socket = socketForId(Atomics.load(control, at));
    if (!socket) return;
    // Clear the mark before looking at the socket, so a later change queues it again.
    Atomics.store(socket.header, HEADER.QUEUED, 0);
    for (const poll of activePolls) poll.noteChanged(socket.fileno());
  });
  if (Atomics.exchange(control, CHANGES.overflow, 0) === 1) {
    // Too many changes to queue: every socket may have changed.
    for (const socket of openSockets()) Atomics.store(socket.header, HEADER.QUEUED, 0);
    for (const poll of activePolls) poll.noteEverythingChanged();
  }
}

localChangeListeners.add((_socket, fd) => {
  for (const poll of activePolls) poll.noteChanged(fd);
});

/** Raised by `Poll.modify` and `Poll.unregister` for a descriptor never registered. */
export class NotRegistered extends SocketError {
  /** Makes the error, naming the descriptor that is not registered. */
  constructor(fd: number) {
    super("EINVAL", `descriptor ${fd} is not registered`);
  }
}

/**
 * A poll object, as Python's `select.poll()`: register descriptors with the events of
 * interest, then `poll` for the ready ones. Errors and hang-ups (`POLLERR`, `POLLHUP`,
 * `POLLNVAL`) are always reported. Timeouts are in milliseconds, as `poll(2)` has them.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { POLLIN } from "./readiness.ts";
 * import { Poll } from "./select.ts";
 * const socket = new Socket();
 * socket.connect(["127.0.0.1", 10000]);
 * const poller = new Poll();
 * poller.register(socket, POLLIN);
 * for (const [fd, events] of poller.poll(1000)) console.log(fd, events & POLLIN);
 * socket.close();
 * ```
 */
export class Poll {
  /** Registered descriptors and the events each is watched for. */
  readonly #events = new Map<number, number>();
  /** Descriptors to look at next time: changed since, or ready last time. */
  #candidates = new Set<number>();
  #lookAtAll = false;

  /** Watches a descriptor for `events` (default: reading and writing). */
  register(fd: number | HasFileno, events: number = POLLIN | POLLPRI | POLLOUT): void {
    const number = fdOf(fd);
    if (number < 0) throw new BadDescriptor();
    this.#events.set(number, events);
    this.#candidates.add(number);
    activePolls.add(this);
  }

  /** Changes the events a registered descriptor is watched for. */
  modify(fd: number | HasFileno, events: number): void {
    const number = fdOf(fd);
    if (!this.#events.has(number)) throw new NotRegistered(number);
    this.#events.set(number, events);
    this.#candidates.add(number);
  }

  /** Stops watching a descriptor. */
  unregister(fd: number | HasFileno): void {
    const number = fdOf(fd);
    if (!this.#events.delete(number)) throw new NotRegistered(number);
    this.#candidates.delete(number);
    if (this.#events.size === 0) activePolls.delete(this);
  }

  /**
   * Blocks until a registered descriptor is ready, or `timeoutMs` passes (none: wait
   * as long as it takes; 0: only look). Returns `[fd, events]` pairs.
   */
  poll(timeoutMs?: number): Array<[fd: number, events: number]> {
    const timeout = secondsOf(timeoutMs);
    return waitUntilReady(this.#look, hasAny, timeout, this.#traced, timeout);
  }

  /** What `poll` looks with; made once, as is the next. */
  readonly #look = (): Array<[number, number]> => this.#collect();

  /** How a `poll` that waits is told in the trace, from its timeout in seconds. */
  readonly #traced: TracedCall<Array<[number, number]>, number | undefined> = {
    name: "poll",
    begin: (timeout) => ({
      readers: this.#watching(POLLIN),
      writers: this.#watching(POLLOUT),
      timeout: timeout ?? null,
    }),
    end: (ready) => ({
      readable: ready.filter(([, events]) => events & ~POLLOUT).map(([fd]) => fd),
      writable: ready.filter(([, events]) => events & POLLOUT).map(([fd]) => fd),
    }),
  };

  /** The registered descriptors watched for `bits`. */
  #watching(bits: number): number[] {
    return [...this.#events].filter(([, events]) => events & bits).map(([fd]) => fd);
  }

  /** `poll`, waiting without blocking the thread. */
  pollAsync(timeoutMs?: number): Promise<Array<[fd: number, events: number]>> {
    return waitUntilReadyAsync(this.#look, hasAny, secondsOf(timeoutMs));
  }

  /** Called when the socket with this descriptor may have changed. */
  noteChanged(fd: number): void {
    if (this.#events.has(fd)) this.#candidates.add(fd);
  }

  /** Called when any socket may have changed. */
  noteEverythingChanged(): void {
    this.#lookAtAll = true;
  }

  #collect(): Array<[number, number]> {
    drainChanges();
    const candidates = this.#lookAtAll ? this.#events.keys() : this.#candidates.values();
    this.#lookAtAll = false;
    const ready: Array<[number, number]> = [];
    const readyNext = new Set<number>();
    for (const fd of candidates) {
      const wanted = this.#events.get(fd);
      if (wanted === undefined) continue;
      const socket = socketForFd(fd);
      const mask = socket ? socket.readiness() : POLLNVAL;
      const events = mask & (wanted | POLLERR | POLLHUP | POLLNVAL);
      if (events !== 0) {
        ready.push([fd, events]);
        readyNext.add(fd);
      }
    }
    // What was ready stays a candidate: poll reports a state, not an edge.
    this.#candidates = readyNext;
    return ready;
  }
}
