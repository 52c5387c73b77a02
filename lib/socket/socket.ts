/**
 * TCP sockets with the semantics of POSIX sockets: calls that really block the thread,
 * non-blocking calls that fail with EWOULDBLOCK, descriptors handed out lowest first.
 *
 * The real connections live in an I/O worker (`kernel.ts`); a `Socket` reads and
 * writes their buffers in shared memory directly, and waits with `Atomics.wait` only
 * when it must.
 *
 * The worker never keeps the program alive by itself: only real waiting does (a blocking
 * call holds the thread; an async wait holds a timer while it is pending). When the
 * program ends with sockets still open, bytes already sent are delivered first, then
 * the connections end, as when the operating system closes what a process left open.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * const server = new Socket();
 * server.bind(["127.0.0.1", 0]);
 * server.listen(5);
 * const client = new Socket();
 * client.connect(server.getSockName()); // blocks until connected
 * const [connection] = server.accept(); // blocks until a client is there
 * connection.sendAll(new TextEncoder().encode("hello"));
 * connection.close();
 * console.log(new TextDecoder().decode(client.recv(1024))); // hello
 * client.close();
 * server.close();
 * ```
 * @module
 */

import { Worker } from "node:worker_threads";
import {
  AddressLookupError,
  BadDescriptor,
  BrokenPipe,
  errnoName,
  InProgress,
  InvalidArgument,
  NotConnected,
  SocketError,
  WouldBlock,
} from "./errors.ts";
import type { HeaderPlace, KernelData, KernelRequest } from "./kernel.ts";
import { SlabAllocator, type Slot } from "./memory.ts";
import {
  copyIntoRing,
  copyOutOfRing,
  CTL_BYTES,
  CTL_DEATH_LENGTH,
  CTL_DEATH_OFFSET,
  CTL_DOORBELL,
  CTL_EVENTS,
  CTL_KERNEL,
  CTL_MAIN_SEEN,
  CTL_MAIN_WAITING,
  CTL_REQUESTS_READ,
  CTL_REQUESTS_WRITE,
  CTL_SENDERS_READ,
  CTL_SENDERS_START,
  CTL_SENDERS_WRITE,
  CTL_WORKER_WATCHING,
  H_BROKEN,
  H_EOF,
  H_ERRNO,
  H_LOCAL_HOST_LENGTH,
  H_LOCAL_PORT,
  H_NO_DESCRIPTOR,
  H_PEER_HOST_LENGTH,
  H_PEER_PORT,
  H_PENDING,
  H_RELEASED,
  H_RX_CAPACITY,
  H_RX_FILLED,
  H_RX_NEXT_CAPACITY,
  H_RX_NEXT_OFFSET,
  H_RX_NEXT_SLAB,
  H_RX_OFFSET,
  H_RX_READ,
  H_RX_SLAB,
  H_RX_STALLED,
  H_RX_WRITE,
  H_STATE,
  H_TX_CAPACITY,
  H_TX_FILLED,
  H_TX_IDLE,
  H_TX_OFFSET,
  H_TX_READ,
  H_TX_SLAB,
  H_TX_WRITE,
  HEADER_BYTES,
  INITIAL_RING_BYTES,
  KERNEL_DEAD,
  KERNEL_STARTING,
  loadText,
  LOCAL_HOST_OFFSET,
  MAX_HOST_BYTES,
  MAX_RING_BYTES,
  PEER_HOST_OFFSET,
  recordDeath,
  REQUEST_ACCEPT,
  REQUEST_CLOSE,
  REQUEST_CONNECT,
  REQUEST_QUEUE_SLOTS,
  requestAt,
  SENDER_CALLED,
  SENDER_IDLE,
  SENDER_QUEUE_SLOTS,
  STATE_BINDING,
  STATE_BOUND,
  STATE_CLOSED,
  STATE_CONNECTED,
  STATE_CONNECTING,
  STATE_FAILED,
  STATE_LISTENING,
  storeHost,
} from "./layout.ts";

/** An address, as Python writes one: `["127.0.0.1", 10000]`. */
export type Address = [host: string, port: number];

/** Anything with a descriptor: what `select` and `Poll` accept. */
export interface HasFileno {
  /** The descriptor, or -1 when there is none any more. */
  fileno(): number;
}

/** Poll event bits, as Linux numbers them. */
export const POLLIN = 0x001;
/** Urgent data to read (never happens on these sockets). */
export const POLLPRI = 0x002;
/** Writing will not block. */
export const POLLOUT = 0x004;
/** An error is pending (always reported). */
export const POLLERR = 0x008;
/** The connection is gone (always reported). */
export const POLLHUP = 0x010;
/** The descriptor is not open (always reported). */
export const POLLNVAL = 0x020;

/** The default size limit of each of a connection's two buffers, in bytes. */
export const DEFAULT_BUFFER_BYTES: number = MAX_RING_BYTES;

// ---------------------------------------------------------------------------
// The process-wide state: the control block, the worker, the descriptor table.

const controlBuffer = new SharedArrayBuffer(CTL_BYTES);
/** The control block shared with the worker (`layout.ts`). */
export const control: Int32Array = new Int32Array(controlBuffer);

/** The I/O worker, started by the first socket that needs it, and kept until the end. */
let kernel: Worker | null = null;

/** Where the worker's code is. */
const KERNEL_URL = new URL("./kernel.ts", import.meta.url);

/** How long the worker may take to start, in milliseconds, before we give up on it. */
const KERNEL_START_MS = 10_000;

/** The slabs that headers and rings are carved out of; each new one goes to the worker. */
const memory = new SlabAllocator((index, buffer) => {
  if (kernel) kernel.postMessage({ op: "slab", index, buffer } satisfies KernelRequest);
});

/** Closed sockets whose memory the worker may still use, in the order they were closed. */
const releasing: Socket[] = [];

/** Sockets by descriptor, as a kernel's descriptor table. */
const socketsByFd = new Map<number, Socket>();
/**
 * Sockets by their worker id (ids are never reused, descriptors are), a listener's
 * spares included: the worker's news names them by id before they have a descriptor.
 */
const socketsById = new Map<number, Socket>();
let nextId = 1;

/**
 * Starts the I/O worker if none runs yet, and fails if it cannot start or has died.
 * The worker is unref'd: it does not keep the program alive by itself.
 */
function requireKernel(): void {
  if (kernel) {
    checkKernel();
    return;
  }
  const url = KERNEL_URL;
  const data: KernelData = { control: controlBuffer };
  try {
    // An empty `env` spares the worker a copy of the environment, and so the reader a
    // prompt for env access.
    kernel = new Worker(url, { workerData: data, env: {} });
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new Deno.errors.NotCapable(
        `Requires read access to "${decodeURIComponent(url.pathname)}" (the sockets' I/O ` +
          `worker), run again with the --allow-read flag (-R)`,
      );
    }
    throw error;
  }
  kernel.unref();
  memory.slabs.forEach((buffer, index) => kernel?.postMessage({ op: "slab", index, buffer }));
  kernel.on("error", (error: unknown) => markKernelDead(error));
  kernel.on("exit", () => markKernelDead("the worker exited"));
  addEventListener("unload", deliverUnsentBytes);
  // The worker says when it is ready. Messages posted before would wait for it anyway;
  // this wait is what tells a worker that could not load from one that is slow.
  Atomics.wait(control, CTL_KERNEL, KERNEL_STARTING, KERNEL_START_MS);
  if (Atomics.load(control, CTL_KERNEL) === KERNEL_STARTING) {
    markKernelDead(`it did not start within ${KERNEL_START_MS / 1000} s`);
  }
  checkKernel();
}

/** Records that the worker is gone (if it did not say so itself) and wakes every waiter. */
function markKernelDead(reason: unknown): void {
  if (Atomics.load(control, CTL_KERNEL) !== KERNEL_DEAD) recordDeath(control, reason);
}

/** Throws if the worker has died: nothing it was asked will ever be answered. */
function checkKernel(): void {
  if (Atomics.load(control, CTL_KERNEL) !== KERNEL_DEAD) return;
  const reason = loadText(
    new Uint8Array(controlBuffer),
    CTL_DEATH_OFFSET,
    Atomics.load(control, CTL_DEATH_LENGTH),
  );
  throw new SocketError("EIO", `The sockets' I/O worker died${reason ? ` (${reason})` : ""}`);
}

function post(request: KernelRequest): void {
  requireKernel();
  kernel?.postMessage(request);
  // A message alone reaches a sleeping worker late (some 80 us here); a notify wakes it
  // sooner, and once awake it finds the message waiting.
  Atomics.add(control, CTL_DOORBELL, 1);
  Atomics.notify(control, CTL_DOORBELL);
}

/**
 * Hands the worker a connect, a spare for a listener (`REQUEST_ACCEPT`) or a close
 * through the queue of requests in the control block: an `Atomics.notify` wakes a
 * sleeping worker several times sooner than a message reaches it. (The rest, rarer, go
 * as messages: ordered after them, a request never overtakes what it depends on, since
 * the main thread waits for each.) A connect's host and port are in its header.
 */
function queueRequest(
  code: number,
  id: number,
  header: HeaderPlace = { slab: 0, offset: 0 },
  listenerId = 0,
): void {
  requireKernel();
  for (;;) {
    const write = Atomics.load(control, CTL_REQUESTS_WRITE);
    const read = Atomics.load(control, CTL_REQUESTS_READ);
    if (((write - read) | 0) < REQUEST_QUEUE_SLOTS) {
      const at = requestAt(write);
      Atomics.store(control, at, code);
      Atomics.store(control, at + 1, id);
      Atomics.store(control, at + 2, header.slab);
      Atomics.store(control, at + 3, header.offset);
      Atomics.store(control, at + 4, listenerId);
      Atomics.store(control, CTL_REQUESTS_WRITE, (write + 1) | 0);
      // A worker watching the queue sees it without a notify (a notify costs some 5 us).
      if (Atomics.load(control, CTL_WORKER_WATCHING) === 0) {
        Atomics.notify(control, CTL_REQUESTS_WRITE);
      }
      return;
    }
    // Full: the worker is behind; it says when it takes requests out.
    waitForEvent(currentEvent(), 1);
  }
}

/** Has the worker wake the send pump of socket `id` (see `wakeQueuedSenders` there). */
function callSender(id: number): void {
  const write = Atomics.load(control, CTL_SENDERS_WRITE);
  if (((write - Atomics.load(control, CTL_SENDERS_READ)) | 0) >= SENDER_QUEUE_SLOTS) {
    post({ op: "wake-senders" }); // a full queue: wake them all, the slow way
    return;
  }
  Atomics.store(control, CTL_SENDERS_START + (write & (SENDER_QUEUE_SLOTS - 1)), id);
  Atomics.store(control, CTL_SENDERS_WRITE, (write + 1) | 0);
  // A worker watching the queue sees it without a notify.
  if (Atomics.load(control, CTL_WORKER_WATCHING) === 0) Atomics.notify(control, CTL_SENDERS_WRITE);
}

/**
 * Asks for net access to `host:port` the way Deno would (a prompt when a terminal is
 * attached), in this thread, so that a missing `-N` fails here with a clear message
 * instead of in the worker.
 */
function requireNetAccess(host: string, port: number): void {
  const where = host.includes(":") ? `[${host}]` : host;
  const descriptor: Deno.NetPermissionDescriptor = {
    name: "net",
    host: port === 0 ? where : `${where}:${port}`,
  };
  if (netGranted.has(descriptor.host as string)) return;
  let state = Deno.permissions.querySync(descriptor).state;
  if (state === "prompt") state = Deno.permissions.requestSync(descriptor).state;
  if (state !== "granted") {
    throw new Deno.errors.NotCapable(
      `Requires net access to "${descriptor.host}", run again with the --allow-net flag (-N)`,
    );
  }
  netGranted.add(descriptor.host as string);
}

/**
 * The places net access was granted to, each asked once: a query costs 3-8 us, a good
 * part of what a connect costs this thread.
 */
const netGranted = new Set<string>();

/** How long the end of the program waits for a peer that takes no bytes, in ms. */
const EXIT_STALL_MS = 2000;

/** The bytes a socket's header says are queued but not yet handed to the network. */
function unsentBytes(header: Int32Array): number {
  if (Atomics.load(header, H_BROKEN) === 1 || Atomics.load(header, H_RELEASED) === 1) return 0;
  return (Atomics.load(header, H_TX_WRITE) - Atomics.load(header, H_TX_READ)) | 0;
}

/**
 * At the end of the program, waits until the worker has handed every byte already sent
 * to the network, open sockets and closed ones alike, as an operating system still
 * delivers what a process sent before it ended. A peer that takes nothing for two
 * seconds is given up on, so that a program never hangs at its end.
 */
function deliverUnsentBytes(): void {
  const headers = [...socketsByFd.values(), ...releasing].map((socket) => socket.header);
  let lastUnsent = -1;
  let stalledSince = performance.now();
  for (;;) {
    const seen = currentEvent();
    let unsent = 0;
    for (const header of headers) unsent += unsentBytes(header);
    if (unsent === 0 || Atomics.load(control, CTL_KERNEL) === KERNEL_DEAD) return;
    if (unsent !== lastUnsent) {
      lastUnsent = unsent;
      stalledSince = performance.now();
    } else if (performance.now() - stalledSince > EXIT_STALL_MS) {
      return;
    }
    Atomics.wait(control, CTL_EVENTS, seen, 50);
  }
}

/** No descriptor below this one is free: where the search for a free one starts. */
let firstMaybeFree = 3;

/** The lowest free descriptor, as a kernel hands them out (0 to 2 are stdio). */
function lowestFreeFd(): number {
  let fd = firstMaybeFree;
  while (socketsByFd.has(fd)) fd++;
  firstMaybeFree = fd + 1;
  return fd;
}

/** The lowest free descriptor; `TooManyOpenFiles` (EMFILE) past the open-files limit. */
function freeFdWithinLimit(): number {
  const fd = lowestFreeFd();
  if (fd >= openFilesLimit()) throw SocketError.fromCode("EMFILE");
  return fd;
}

/** Set while a listener makes a spare, which has no descriptor until it is accepted. */
let makingSpare = false;

/** How many connection sockets a listener keeps ahead with the worker (see `accept`). */
const SPARE_CONNECTIONS = 2;

/** Gives a descriptor back. */
function freeFd(fd: number): void {
  socketsByFd.delete(fd);
  firstMaybeFree = Math.min(firstMaybeFree, fd);
}

/** Listeners told when a socket changes on the main thread's side (used by `Poll`). */
export const localChangeListeners = new Set<(socket: Socket, fd: number) => void>();

/** The socket with this descriptor, if one is open. */
export function socketForFd(fd: number): Socket | undefined {
  return socketsByFd.get(fd);
}

/** The socket with this worker id, if it is still open (or a spare, without a descriptor). */
export function socketForId(id: number): Socket | undefined {
  return socketsById.get(id);
}

/** All open sockets, a listener's spares included. */
export function openSockets(): IterableIterator<Socket> {
  return socketsById.values();
}

// ---------------------------------------------------------------------------
// Waiting.

/** The event counter's current value: read it before checking a condition. */
export function currentEvent(): number {
  return Atomics.load(control, CTL_EVENTS);
}

/**
 * How long a blocking wait watches the event counter before it sleeps, in ms. The worker
 * often answers within a few tens of microseconds (a connect, the next bytes), and waking
 * a sleeping thread costs about as much again: a short, bounded spin saves that, and
 * costs an idle program nothing worth measuring.
 */
const SPIN_MS = 0.05;

/**
 * How long a wait for the worker's own answer (a bind, a connect on this machine, a
 * close of a listener) watches the counter before it sleeps, in ms: these answers take
 * the worker 50 to 200 us, and come almost always.
 */
const ANSWER_SPIN_MS = 0.25;

/**
 * Says in the control block that this thread waits for the event counter to move past
 * `seen` (the worker stays awake for it only while it could answer at once).
 */
function markMainWaiting(seen: number): void {
  Atomics.store(control, CTL_MAIN_SEEN, seen);
  Atomics.store(control, CTL_MAIN_WAITING, 1);
}

/**
 * Blocks the thread until the event counter moves past `seen`, or the timeout passes,
 * watching it for `spinMs` before it sleeps.
 */
export function waitForEvent(seen: number, timeoutMs?: number, spinMs: number = SPIN_MS): void {
  checkKernel();
  markMainWaiting(seen);
  try {
    const spinUntil = performance.now() + Math.min(spinMs, timeoutMs ?? spinMs);
    do {
      for (let i = 0; i < 64; i++) {
        if (Atomics.load(control, CTL_EVENTS) !== seen) return checkKernel();
      }
    } while (performance.now() < spinUntil);
    const left = timeoutMs === undefined ? Infinity : timeoutMs - spinMs;
    if (left > 0) Atomics.wait(control, CTL_EVENTS, seen, left);
  } finally {
    Atomics.store(control, CTL_MAIN_WAITING, 0);
  }
  checkKernel();
}

/**
 * Waits without blocking the thread until the event counter moves past `seen`, or the
 * timeout passes.
 *
 * An `Atomics.waitAsync` wakes when notified, but Deno neither counts it as something
 * that keeps the program alive nor times its own timeout closely. So the wait has no
 * timeout of its own: a timer notifies it when the time is up, and a second timer keeps
 * the program alive until the waiter has been resolved (by an event or by that notify),
 * so no waiter is ever left behind.
 */
export async function waitForEventAsync(seen: number, timeoutMs?: number): Promise<void> {
  checkKernel();
  const result = Atomics.waitAsync(control, CTL_EVENTS, seen);
  if (!result.async) return checkKernel();
  markMainWaiting(seen);
  const keepAlive = setTimeout(() => {}, 2 ** 31 - 1);
  const timer = timeoutMs === undefined
    ? undefined
    : setTimeout(() => Atomics.notify(control, CTL_EVENTS), Math.max(0, timeoutMs));
  try {
    await result.value;
  } finally {
    clearTimeout(timer);
    clearTimeout(keepAlive);
    Atomics.store(control, CTL_MAIN_WAITING, 0);
  }
  checkKernel();
}

/**
 * Makes every wait on the event counter return now: an async `select` or `poll` in
 * progress, say, when a reactor has been given something new to do.
 *
 * @example
 * ```ts
 * import { wakeUp } from "./socket.ts";
 * wakeUp(); // a reactor calls this when a timer is added from outside its loop
 * ```
 */
export function wakeUp(): void {
  wakeUps++;
  Atomics.add(control, CTL_EVENTS, 1);
  Atomics.notify(control, CTL_EVENTS);
}

/** How many times `wakeUp` was called: an async wait returns when this changes. */
let wakeUps = 0;

/** The count of `wakeUp` calls so far; an async wait ends once it moves. */
export function wakeUpCount(): number {
  return wakeUps;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Blocks the whole thread for `seconds`, like Python's `time.sleep`: no timer, no
 * callback, nothing else runs meanwhile.
 *
 * @example
 * ```ts
 * import { sleep } from "./socket.ts";
 * sleep(0.1); // the thread does nothing else for 100 ms
 * ```
 */
export function sleep(seconds: number): void {
  if (!(seconds >= 0)) throw new RangeError("sleep length must be non-negative");
  Atomics.wait(sleepCell, 0, 0, seconds * 1000);
}

/** What an attempt returns when it would have to wait. */
const AGAIN = Symbol("again");
type Attempt<T> = () => T | typeof AGAIN;

// ---------------------------------------------------------------------------
// The socket.

type Role = "fresh" | "listener" | "stream";

/**
 * A TCP stream socket.
 *
 * Blocking by default: `connect`, `accept`, `recv`, `send` and `sendAll` block the
 * calling thread until they can finish. After `setBlocking(false)` they never wait:
 * they fail with `WouldBlock` (EWOULDBLOCK) instead, and `connect` with `InProgress`.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { WouldBlock } from "./errors.ts";
 * const socket = new Socket();
 * socket.connect(["127.0.0.1", 10000]);
 * socket.setBlocking(false);
 * try {
 *   console.log(socket.recv(1024).length, "bytes");
 * } catch (error) {
 *   if (!(error instanceof WouldBlock)) throw error; // nothing has arrived yet
 * }
 * socket.close();
 * ```
 */
export class Socket implements HasFileno {
  #fd: number;
  readonly #id: number;
  #blocking = true;
  #role: Role = "fresh";
  #adopted = false;
  readonly #headerSlot: Slot;
  /** The header shared with the worker (see `layout.ts`). */
  readonly header: Int32Array;
  /** The receive ring's slot, once connected; the worker may move to `#receiveOffer`. */
  #receiveSlot: Slot | null = null;
  /** A bigger receive ring offered to the worker, not yet taken. */
  #receiveOffer: Slot | null = null;
  /** The send ring's slot, once connected. */
  #sendSlot: Slot | null = null;
  /** The host last given to `bind` or `connect`: the one a failed lookup names. */
  #lookedUpHost = "";

  /**
   * Connections made ahead for `accept` (a listener's only): the worker starts each
   * connection it accepts in the oldest, so `accept` finds it ready, without a round trip.
   */
  #spares: Socket[] = [];

  /** A new socket, with the lowest free descriptor; `TooManyOpenFiles` (EMFILE) past the open-files limit. */
  constructor() {
    const fd = makingSpare ? -1 : freeFdWithinLimit();
    this.#fd = fd;
    this.#id = nextId++;
    this.#headerSlot = memory.allocate(HEADER_BYTES);
    memory.bytes(this.#headerSlot).fill(0); // what the slot's last owner left
    this.header = new Int32Array(
      memory.slabs[this.#headerSlot.slab],
      this.#headerSlot.offset,
      HEADER_BYTES / 4,
    );
    socketsById.set(this.#id, this);
    if (fd >= 0) this.#register(fd);
  }

  #register(fd: number): void {
    this.#fd = fd;
    socketsByFd.set(fd, this);
  }

  /** The descriptor: the lowest free one when the socket was made; -1 once closed. */
  fileno(): number {
    return this.#fd;
  }

  /** Whether calls wait (`true`, the default) or fail with `WouldBlock`. */
  setBlocking(flag: boolean): void {
    this.#open();
    this.#blocking = flag;
  }

  /** Whether the socket is in blocking mode. */
  getBlocking(): boolean {
    return this.#blocking;
  }

  /**
   * Binds the socket to a local address; port 0 picks a free port. Deno's listeners
   * bind and listen in one step, so the socket is listening in the kernel from here on,
   * though nothing is accepted before `listen`. (Deno sets `SO_REUSEADDR` on them.)
   */
  bind(address: Address): void {
    this.#open();
    if (this.#role !== "fresh" || this.#adopted) throw new InvalidArgument();
    const [host, port] = checkAddress(address);
    requireNetAccess(host, port);
    requireKernel();
    this.#adopted = true;
    this.#lookedUpHost = host;
    Atomics.store(this.header, H_STATE, STATE_BINDING);
    post({ op: "bind", id: this.#id, header: this.#headerPlace(), host, port });
    this.#waitWhile(() => Atomics.load(this.header, H_STATE) === STATE_BINDING);
    const error = this.getPendingError();
    if (error) throw error;
    this.#role = "listener";
  }

  /** Starts accepting connections; at most `backlog` wait to be taken by `accept`. */
  listen(backlog = 128): void {
    if (!Number.isInteger(backlog)) {
      throw new TypeError(`listen: the backlog must be an integer, not ${String(backlog)}`);
    }
    this.#open();
    if (this.#role !== "listener") throw new InvalidArgument();
    if (Atomics.load(this.header, H_STATE) === STATE_LISTENING) return;
    post({ op: "listen", id: this.#id, backlog });
    this.#waitWhile(() => Atomics.load(this.header, H_STATE) === STATE_BOUND);
    while (this.#spares.length < SPARE_CONNECTIONS) this.#offerSpare();
  }

  /**
   * Hands the worker a connection socket (its header and rings, no descriptor yet) to
   * start the next connection it accepts in, as Windows' `AcceptEx` takes one.
   */
  #offerSpare(): void {
    makingSpare = true;
    let spare: Socket;
    try {
      spare = new Socket();
    } finally {
      makingSpare = false;
    }
    spare.#adopted = true;
    spare.#role = "stream";
    Atomics.store(spare.header, H_STATE, STATE_CONNECTING);
    this.#spares.push(spare);
    queueRequest(REQUEST_ACCEPT, spare.#id, spare.#makeRings(), this.#id);
  }

  /**
   * Takes the next connection: blocks until one comes, or fails with `WouldBlock` in
   * non-blocking mode. Returns the new connected socket and its peer's address.
   */
  accept(): [Socket, Address] {
    return this.#run(this.#tryAccept);
  }

  /** `accept`, waiting without blocking the thread. */
  acceptAsync(): Promise<[Socket, Address]> {
    return this.#runAsync(this.#tryAccept);
  }

  #tryAccept: Attempt<[Socket, Address]> = () => {
    this.#open();
    if (Atomics.load(this.header, H_STATE) !== STATE_LISTENING) throw new InvalidArgument();
    const error = this.getPendingError();
    if (error) throw error;
    if (Atomics.load(this.header, H_PENDING) === 0) {
      // A connection waits, but the process has no descriptor left for it.
      const shortage = Atomics.load(this.header, H_NO_DESCRIPTOR);
      if (shortage !== 0) throw errorForErrno(shortage);
      return AGAIN;
    }
    const fd = freeFdWithinLimit();
    Atomics.sub(this.header, H_PENDING, 1);
    // The worker pairs accepted connections with spares in order: this one has the
    // oldest spare, started already or about to be. Another spare takes its place.
    const connection = this.#spares.shift() as Socket;
    this.#offerSpare();
    connection.#waitWhile(() => Atomics.load(connection.header, H_STATE) === STATE_CONNECTING);
    connection.#register(fd);
    const failure = connection.getPendingError();
    if (failure) {
      connection.close();
      throw failure;
    }
    return [connection, connection.getPeerName()];
  };

  /**
   * Connects to a server. Blocks until connected, or fails with the reason
   * (`ConnectionRefused`, say). In non-blocking mode it only starts the connection and
   * fails with `InProgress`: the socket turns writable when the attempt ends, and
   * `getPendingError()` then says whether it failed.
   */
  connect(address: Address): void {
    this.#startConnect(address);
    if (!this.#blocking) throw new InProgress();
    this.#waitWhile(() => Atomics.load(this.header, H_STATE) === STATE_CONNECTING);
    this.#connected();
  }

  /** `connect`, waiting without blocking the thread. */
  async connectAsync(address: Address): Promise<void> {
    this.#startConnect(address);
    await this.#runAsync(() =>
      Atomics.load(this.header, H_STATE) === STATE_CONNECTING ? AGAIN : true
    );
    this.#connected();
  }

  #startConnect(address: Address): void {
    this.#open();
    if (this.#role === "listener") throw new InvalidArgument();
    const state = Atomics.load(this.header, H_STATE);
    // After a failed attempt the socket may try again, as on Linux; not while connected.
    if (this.#role === "stream" && state !== STATE_FAILED) {
      throw SocketError.fromCode(state === STATE_CONNECTING ? "EALREADY" : "EISCONN");
    }
    const [host, port] = checkAddress(address);
    requireNetAccess(host, port);
    requireKernel();
    this.#role = "stream";
    this.#adopted = true;
    this.#lookedUpHost = host;
    const header = this.#sendSlot ? this.#headerPlace() : this.#makeRings();
    // Where to connect goes where the peer's address will be: the worker reads it there.
    const length = storeHost(memory.bytes(this.#headerSlot), PEER_HOST_OFFSET, host);
    Atomics.store(this.header, H_PEER_HOST_LENGTH, length);
    Atomics.store(this.header, H_PEER_PORT, port);
    Atomics.store(this.header, H_ERRNO, 0);
    Atomics.store(this.header, H_STATE, STATE_CONNECTING);
    queueRequest(REQUEST_CONNECT, this.#id, header);
  }

  #connected(): void {
    const error = this.getPendingError();
    if (error) throw error;
  }

  /**
   * Returns and clears the pending error, as `getsockopt(SO_ERROR)` does: how a
   * non-blocking connect ended, or why the connection broke. `null` when there is none.
   */
  getPendingError(): SocketError | null {
    this.#open();
    const errno = Atomics.exchange(this.header, H_ERRNO, 0);
    if (errno === 0) return null;
    const error = errorForErrno(errno);
    if (error instanceof AddressLookupError) error.host = this.#lookedUpHost;
    return error;
  }

  /**
   * Receives at most `max` bytes. Blocks until some have arrived; an empty array means
   * the peer closed the connection. In non-blocking mode, with nothing buffered, fails
   * with `WouldBlock`.
   */
  recv(max: number): Uint8Array {
    checkBufferSize(max);
    return this.#run(() => this.#tryRecv(max));
  }

  /** `recv`, waiting without blocking the thread. */
  async recvAsync(max: number): Promise<Uint8Array> {
    checkBufferSize(max);
    return await this.#runAsync(() => this.#tryRecv(max));
  }

  #tryRecv(max: number): Uint8Array | typeof AGAIN {
    this.#open();
    if (this.#role !== "stream" || !this.#receiveSlot) throw new NotConnected();
    const header = this.header;
    const write = Atomics.load(header, H_RX_WRITE);
    const read = Atomics.load(header, H_RX_READ);
    const available = (write - read) | 0;
    if (available > 0 && max > 0) {
      const count = Math.min(available, max);
      const ring = this.#receiveRing(); // read after the write index: see layout.ts
      const bytes = copyOutOfRing(ring, ring.length, read, count);
      Atomics.store(header, H_RX_READ, (read + count) | 0);
      if (count === available) this.#offerBiggerReceiveRing(ring.length);
      // The worker may have stopped reading for lack of room: now there is some.
      if (Atomics.load(header, H_RX_STALLED) === 1) Atomics.notify(header, H_RX_READ);
      return bytes;
    }
    if (max <= 0) return new Uint8Array(0);
    if (Atomics.load(header, H_EOF) === 1) return new Uint8Array(0);
    const error = this.getPendingError();
    if (error) throw error;
    if (Atomics.load(header, H_BROKEN) === 1) return new Uint8Array(0);
    if (Atomics.load(header, H_STATE) === STATE_FAILED) throw new NotConnected();
    return AGAIN;
  }

  /**
   * Sends what fits in the send buffer and returns how many bytes it took, possibly
   * fewer than given. Blocks while the buffer is full; in non-blocking mode fails with
   * `WouldBlock` instead. A peer that has gone gives `BrokenPipe` or `ConnectionReset`.
   */
  send(bytes: Uint8Array): number {
    return this.#run(() => this.#trySend(bytes));
  }

  /** Sends all the bytes, blocking until the send buffer has taken the last of them. */
  sendAll(bytes: Uint8Array): void {
    let offset = 0;
    do {
      offset += this.send(bytes.subarray(offset));
    } while (offset < bytes.length);
  }

  /** `sendAll`, waiting without blocking the thread. */
  async sendAllAsync(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    do {
      offset += await this.#runAsync(() => this.#trySend(bytes.subarray(offset)));
    } while (offset < bytes.length);
  }

  #trySend(bytes: Uint8Array): number | typeof AGAIN {
    this.#open();
    if (this.#role !== "stream" || !this.#sendSlot) throw new BrokenPipe();
    const header = this.header;
    const state = Atomics.load(header, H_STATE);
    if (state === STATE_CONNECTING) return AGAIN;
    const error = this.getPendingError();
    if (error) throw error;
    if (Atomics.load(header, H_BROKEN) === 1 || state !== STATE_CONNECTED) {
      throw new BrokenPipe();
    }
    if (bytes.length === 0) return 0;
    const write = Atomics.load(header, H_TX_WRITE);
    const read = Atomics.load(header, H_TX_READ);
    const used = (write - read) | 0;
    let slot = this.#sendSlot;
    if (used === 0 && slot.size < MAX_RING_BYTES && Atomics.load(header, H_TX_FILLED) === 1) {
      // Traffic filled the ring: move to one twice as big while it is empty (the worker
      // is done with the old one, having sent all of it). Its place first, then its size.
      const bigger = memory.allocate(slot.size * 2);
      Atomics.store(header, H_TX_SLAB, bigger.slab);
      Atomics.store(header, H_TX_OFFSET, bigger.offset);
      Atomics.store(header, H_TX_CAPACITY, bigger.size);
      Atomics.store(header, H_TX_FILLED, 0);
      memory.free(slot);
      this.#sendSlot = slot = bigger;
    }
    const capacity = slot.size;
    const room = capacity - used;
    if (room === 0) {
      Atomics.store(header, H_TX_FILLED, 1);
      return AGAIN;
    }
    const count = Math.min(room, bytes.length);
    copyIntoRing(memory.bytes(slot), capacity, write, bytes.subarray(0, count));
    Atomics.store(header, H_TX_WRITE, (write + count) | 0);
    if (count === room) Atomics.store(header, H_TX_FILLED, 1);
    if (Atomics.compareExchange(header, H_TX_IDLE, SENDER_IDLE, SENDER_CALLED) === SENDER_IDLE) {
      callSender(this.#id);
    }
    return count;
  }

  /**
   * Closes the socket. Bytes already sent are still delivered, then the connection
   * closes. The descriptor is free again at once; later calls fail with `BadDescriptor`.
   * Closing twice does nothing.
   */
  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    freeFd(fd);
    this.#fd = -1;
    const spares = this.#spares.splice(0);
    for (const socket of [this, ...spares]) socketsById.delete(socket.#id);
    if (this.#adopted && Atomics.load(control, CTL_KERNEL) !== KERNEL_DEAD) {
      // The spares go first: a connection started in one and not yet accepted is closed.
      for (const spare of spares) {
        queueRequest(REQUEST_CLOSE, spare.#id);
        releasing.push(spare);
      }
      queueRequest(REQUEST_CLOSE, this.#id);
      // Its memory is reused once the worker is done with it (bytes still to send, say).
      releasing.push(this);
      if (this.#role === "listener") {
        // As with a kernel, the port is free once close() returns: wait for the worker.
        this.#waitWhile(() => Atomics.load(this.header, H_STATE) !== STATE_CLOSED);
      }
    } else if (!this.#adopted) {
      this.#freeMemory();
    }
    Socket.#freeReleasedMemory();
    for (const listener of localChangeListeners) listener(this, fd);
  }

  /** The local address. */
  getSockName(): Address {
    this.#open();
    const bytes = memory.bytes(this.#headerSlot);
    const host = loadText(bytes, LOCAL_HOST_OFFSET, Atomics.load(this.header, H_LOCAL_HOST_LENGTH));
    return [host || "0.0.0.0", Atomics.load(this.header, H_LOCAL_PORT)];
  }

  /** The peer's address; `NotConnected` when there is no peer. */
  getPeerName(): Address {
    this.#open();
    if (this.#role !== "stream" || Atomics.load(this.header, H_STATE) !== STATE_CONNECTED) {
      throw new NotConnected();
    }
    const bytes = memory.bytes(this.#headerSlot);
    const host = loadText(bytes, PEER_HOST_OFFSET, Atomics.load(this.header, H_PEER_HOST_LENGTH));
    return [host, Atomics.load(this.header, H_PEER_PORT)];
  }

  /**
   * What `poll` would report for this socket now: a mask of the `POLL*` bits.
   * Readable means `recv` or `accept` will not block; writable, that `send` will not.
   */
  readiness(): number {
    if (this.#fd < 0) return POLLNVAL;
    const header = this.header;
    const state = Atomics.load(header, H_STATE);
    const errorBit = Atomics.load(header, H_ERRNO) !== 0 ? POLLERR : 0;
    if (this.#role === "listener") {
      const acceptable = Atomics.load(header, H_PENDING) > 0 ||
        Atomics.load(header, H_NO_DESCRIPTOR) !== 0;
      return (acceptable ? POLLIN : 0) | errorBit;
    }
    if (this.#role === "fresh") return POLLOUT | POLLHUP;
    if (state === STATE_CONNECTING) return 0;
    if (state === STATE_FAILED) return POLLOUT | POLLHUP | errorBit;
    let mask = errorBit;
    const unread = (Atomics.load(header, H_RX_WRITE) - Atomics.load(header, H_RX_READ)) | 0;
    if (unread > 0 || Atomics.load(header, H_EOF) === 1) mask |= POLLIN;
    if (Atomics.load(header, H_BROKEN) === 1) return mask | POLLIN | POLLOUT | POLLHUP;
    const unsent = (Atomics.load(header, H_TX_WRITE) - Atomics.load(header, H_TX_READ)) | 0;
    if (unsent < Atomics.load(header, H_TX_CAPACITY)) mask |= POLLOUT;
    return mask;
  }

  /** The id the worker knows this socket by. */
  get id(): number {
    return this.#id;
  }

  /** Where the header is, for the worker. */
  #headerPlace(): HeaderPlace {
    return { slab: this.#headerSlot.slab, offset: this.#headerSlot.offset };
  }

  /** Gives a new connection its two rings, and says where they are in its header. */
  #makeRings(): HeaderPlace {
    const receive = this.#receiveSlot = memory.allocate(INITIAL_RING_BYTES);
    const send = this.#sendSlot = memory.allocate(INITIAL_RING_BYTES);
    Atomics.store(this.header, H_RX_SLAB, receive.slab);
    Atomics.store(this.header, H_RX_OFFSET, receive.offset);
    Atomics.store(this.header, H_RX_CAPACITY, receive.size);
    Atomics.store(this.header, H_TX_SLAB, send.slab);
    Atomics.store(this.header, H_TX_OFFSET, send.offset);
    Atomics.store(this.header, H_TX_CAPACITY, send.size);
    return this.#headerPlace();
  }

  /** The receive ring's bytes, where the header says they are now. */
  #receiveRing(): Uint8Array {
    const offer = this.#receiveOffer;
    if (offer && Atomics.load(this.header, H_RX_NEXT_CAPACITY) === 0) {
      // The worker took the bigger ring (and is done with the old one, which was empty).
      if (this.#receiveSlot) memory.free(this.#receiveSlot);
      this.#receiveSlot = offer;
      this.#receiveOffer = null;
    }
    return memory.bytes(this.#receiveSlot as Slot);
  }

  /**
   * After the receive ring was found full and then emptied, offers the worker a ring
   * twice as big; it moves there the next time it finds the ring empty.
   */
  #offerBiggerReceiveRing(capacity: number): void {
    const header = this.header;
    if (this.#receiveOffer || capacity >= MAX_RING_BYTES) return;
    if (Atomics.load(header, H_RX_FILLED) !== 1) return;
    const offer = this.#receiveOffer = memory.allocate(capacity * 2);
    Atomics.store(header, H_RX_FILLED, 0);
    Atomics.store(header, H_RX_NEXT_SLAB, offer.slab);
    Atomics.store(header, H_RX_NEXT_OFFSET, offer.offset);
    Atomics.store(header, H_RX_NEXT_CAPACITY, offer.size);
  }

  /** Gives the header and the rings back to the allocator: nobody uses them any more. */
  #freeMemory(): void {
    for (const slot of [this.#receiveSlot, this.#receiveOffer, this.#sendSlot]) {
      if (slot) memory.free(slot);
    }
    this.#receiveSlot = this.#receiveOffer = this.#sendSlot = null;
    memory.free(this.#headerSlot);
  }

  /**
   * Frees the memory of closed sockets the worker is done with, oldest first (they are
   * released about in the order they were closed).
   */
  static #freeReleasedMemory(): void {
    while (releasing.length > 0 && Atomics.load(releasing[0].header, H_RELEASED) === 1) {
      (releasing.shift() as Socket).#freeMemory();
    }
  }

  #open(): void {
    if (this.#fd < 0) throw new BadDescriptor();
  }

  /** Waits (blocking the thread) while `condition` holds. */
  #waitWhile(condition: () => boolean): void {
    for (;;) {
      const seen = currentEvent();
      if (!condition()) return;
      waitForEvent(seen, undefined, ANSWER_SPIN_MS);
    }
  }

  /** Runs an attempt until it succeeds: blocking, or failing with WouldBlock. */
  #run<T>(attempt: Attempt<T>): T {
    for (;;) {
      const seen = currentEvent();
      const result = attempt();
      if (result !== AGAIN) return result;
      if (!this.#blocking) throw wouldBlock();
      waitForEvent(seen);
    }
  }

  /** Runs an attempt until it succeeds, waiting without blocking the thread. */
  async #runAsync<T>(attempt: Attempt<T>): Promise<T> {
    for (;;) {
      const seen = currentEvent();
      const result = attempt();
      if (result !== AGAIN) return result;
      await waitForEventAsync(seen);
    }
  }
}

/**
 * What every would-block error shares: its message, and a stack that is only that line.
 * Non-blocking code expects this error, often thousands of times a second, and never
 * prints it; building a real `Error` (about 2.4 µs) would cost most of a non-blocking
 * call, and this one costs about 0.2 µs.
 */
const WOULD_BLOCK_MODEL = new WouldBlock();
const WOULD_BLOCK_TEMPLATE: WouldBlock = Object.create(WouldBlock.prototype, {
  message: { value: WOULD_BLOCK_MODEL.message, writable: true, configurable: true },
  stack: {
    value: `${WOULD_BLOCK_MODEL.name}: ${WOULD_BLOCK_MODEL.message}`,
    writable: true,
    configurable: true,
  },
});

/** A WouldBlock error, an `instanceof WouldBlock` like any other, made cheaply. */
function wouldBlock(): WouldBlock {
  return Object.assign(Object.create(WOULD_BLOCK_TEMPLATE), {
    errno: WOULD_BLOCK_MODEL.errno,
    code: WOULD_BLOCK_MODEL.code,
    name: WOULD_BLOCK_MODEL.name,
  });
}

/**
 * Two sockets connected to each other, as Python's `socket.socketpair()` gives them;
 * here over TCP on 127.0.0.1, through a listener made for the purpose and closed after.
 *
 * @example
 * ```ts
 * import { socketPair } from "./socket.ts";
 * const [a, b] = socketPair();
 * a.sendAll(new TextEncoder().encode("ping"));
 * console.log(new TextDecoder().decode(b.recv(16))); // ping
 * a.close();
 * b.close();
 * ```
 *
 * @returns the two ends, both blocking
 */
export function socketPair(): [Socket, Socket] {
  const listener = new Socket();
  try {
    listener.bind(["127.0.0.1", 0]);
    listener.listen(1);
    const client = new Socket();
    try {
      client.connect(listener.getSockName());
      return [client, listener.accept()[0]];
    } catch (error) {
      client.close();
      throw error;
    }
  } finally {
    listener.close();
  }
}

let filesLimit: number | undefined;

/**
 * The process's limit on open files (the soft `ulimit -n`), read once from
 * `/proc/self/limits` where Deno lets us read it (it asks for `-A`); otherwise no limit
 * is assumed here, and the operating system's own EMFILE is what the first call past
 * it gets (a connect, an accept, a bind).
 */
function openFilesLimit(): number {
  if (filesLimit !== undefined) return filesLimit;
  filesLimit = Infinity;
  try {
    const path = "/proc/self/limits";
    if (Deno.permissions.querySync({ name: "read", path }).state === "granted") {
      const line = /^Max open files\s+(\d+)/m.exec(Deno.readTextFileSync(path));
      if (line) filesLimit = Number(line[1]);
    }
  } catch {
    // No such file here (not Linux): rely on the operating system's EMFILE.
  }
  return filesLimit;
}

/** Checks `recv`'s size argument as Python does: an integer, not negative. */
function checkBufferSize(max: number): void {
  if (typeof max !== "number" || !Number.isInteger(max)) {
    throw new TypeError(`recv: the buffer size must be an integer, not ${String(max)}`);
  }
  if (max < 0) throw new RangeError("negative buffersize in recv");
}

function errorForErrno(errno: number): SocketError {
  return SocketError.fromCode(errnoName(errno));
}

function checkAddress(address: Address): Address {
  const [host, port] = address;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`port must be 0-65535, not ${port}`);
  }
  const bytes = new TextEncoder().encode(host).length;
  if (bytes > MAX_HOST_BYTES) {
    throw new RangeError(`host name too long: ${bytes} bytes, at most ${MAX_HOST_BYTES}`);
  }
  return [host === "" ? "0.0.0.0" : host, port];
}

// Starting the worker blocks the thread for some 50 ms. Do it now, while the program
// loads, rather than in its first connect, where it would delay the program's timers
// and show in its timings. Without read access to the worker's code, wait: the first
// socket that needs the worker then says which flag is missing (or Deno asks for it).
if (Deno.permissions.querySync({ name: "read", path: KERNEL_URL }).state === "granted") {
  try {
    requireKernel();
  } catch {
    // The worker is marked dead, and the first socket that needs it will say why.
  }
}
