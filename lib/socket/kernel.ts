/**
 * The I/O worker: the socket layer's "kernel".
 *
 * It owns the real `Deno.Listener` and `Deno.Conn` objects. For each connection it reads
 * from the network into the socket's receive ring while there is room (a full ring stops
 * the reading, which pushes back on TCP), and writes out whatever the main thread put in
 * the send ring. Every answer goes through shared memory: the worker bumps the event
 * counter and notifies after each change, and never posts a message back, because a main
 * thread blocked in `Atomics.wait` could not receive it.
 *
 * The main thread starts it (see `socket.ts`) as a `node:worker_threads` worker that does
 * not keep the process alive, handing it the control block as `workerData`. It asks for
 * connects, closes and spares for `accept` through a queue of requests in the control
 * block, and for the rest (bind, listen, a new slab of memory) with messages of the
 * `KernelRequest` type. The frequent news, "room freed" in a receive ring and "bytes
 * queued" in a send ring, comes through a notify on the ring's index and the queue of
 * senders to wake, which are cheaper.
 *
 * It says in the control block when it is ready, and, should anything escape it, that
 * it died and why, so that no call of the main thread waits forever on a dead worker.
 *
 * @module
 */

import { parentPort, workerData } from "node:worker_threads";
import { codeOfDenoError, SocketError } from "./errors.ts";
import {
  CHANGE_QUEUE_SLOTS,
  CTL_CHANGES_OVERFLOW,
  CTL_CHANGES_READ,
  CTL_CHANGES_START,
  CTL_CHANGES_WRITE,
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
  H_QUEUED,
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
  KERNEL_READY,
  loadText,
  LOCAL_HOST_OFFSET,
  PEER_HOST_OFFSET,
  recordDeath,
  REQUEST_ACCEPT,
  REQUEST_CLOSE,
  REQUEST_CONNECT,
  REQUEST_QUEUE_SLOTS,
  requestAt,
  SENDER_BUSY,
  SENDER_IDLE,
  SENDER_QUEUE_SLOTS,
  STATE_BOUND,
  STATE_CLOSED,
  STATE_CONNECTED,
  STATE_CONNECTING,
  STATE_FAILED,
  STATE_FRESH,
  STATE_LISTENING,
  storeHost,
} from "./layout.ts";

/** What the main thread hands the worker when it starts it. */
export interface KernelData {
  /** The control block (`layout.ts`). */
  control: SharedArrayBuffer;
}

/** Where a socket's header is: a slab's number and a byte offset in it (`memory.ts`). */
export interface HeaderPlace {
  /** The slab's number. */
  slab: number;
  /** The header's first byte in the slab. */
  offset: number;
}

/**
 * What the main thread asks of the worker as messages. Ids name sockets; they are never
 * reused. A `slab` request hands over a new slab of shared memory, before anything in it
 * is used; a `bind` names the socket's header. (Connects, spares for `accept`, and
 * closes, the frequent ones, go through the queue of requests in the control block.)
 */
export type KernelRequest =
  | { op: "slab"; index: number; buffer: SharedArrayBuffer }
  | { op: "bind"; id: number; header: HeaderPlace; host: string; port: number }
  | { op: "listen"; id: number; backlog: number }
  | { op: "wake-senders" };

/** The slabs of shared memory the main thread has handed over, by number. */
const slabs: SharedArrayBuffer[] = [];
/** Pumps waiting for a slab that is still on its way, by slab number. */
const slabWaiters = new Map<number, Array<() => void>>();

/** Settles once slab `index` has arrived (a ring may be moved to it before). */
function slabArrived(index: number): Promise<void> {
  if (slabs[index] !== undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const waiting = slabWaiters.get(index) ?? [];
    waiting.push(resolve);
    slabWaiters.set(index, waiting);
  });
}

function addSlab(index: number, buffer: SharedArrayBuffer): void {
  slabs[index] = buffer;
  for (const wake of slabWaiters.get(index) ?? []) wake();
  slabWaiters.delete(index);
}

/** A ring's bytes, as the header places it: cached until the ring moves. */
class RingView {
  #slab = -1;
  #offset = -1;
  #bytes: Uint8Array = new Uint8Array(0);

  constructor(
    readonly header: Int32Array,
    readonly slabIndex: number,
    readonly offsetIndex: number,
    readonly capacityIndex: number,
  ) {}

  /** The ring's bytes now, or null while its slab is on its way. */
  bytes(): Uint8Array | null {
    const slab = Atomics.load(this.header, this.slabIndex);
    const offset = Atomics.load(this.header, this.offsetIndex);
    const capacity = Atomics.load(this.header, this.capacityIndex);
    if (slab !== this.#slab || offset !== this.#offset || capacity !== this.#bytes.length) {
      const buffer = slabs[slab];
      if (buffer === undefined) return null;
      this.#bytes = new Uint8Array(buffer, offset, capacity);
      this.#slab = slab;
      this.#offset = offset;
    }
    return this.#bytes;
  }

  /** The ring's slab number, for waiting on it. */
  slab(): number {
    return Atomics.load(this.header, this.slabIndex);
  }
}

const control = new Int32Array((workerData as KernelData).control);

/** Tells every waiter that something changed, and queues the socket for `Poll`. */
function announce(socket: KernelSocket): void {
  if (Atomics.compareExchange(socket.header, H_QUEUED, 0, 1) === 0) {
    const write = Atomics.load(control, CTL_CHANGES_WRITE);
    const read = Atomics.load(control, CTL_CHANGES_READ);
    if (((write - read) | 0) >= CHANGE_QUEUE_SLOTS) {
      Atomics.store(control, CTL_CHANGES_OVERFLOW, 1);
    } else {
      Atomics.store(control, CTL_CHANGES_START + (write & (CHANGE_QUEUE_SLOTS - 1)), socket.id);
      Atomics.store(control, CTL_CHANGES_WRITE, (write + 1) | 0);
    }
  }
  Atomics.add(control, CTL_EVENTS, 1);
  Atomics.notify(control, CTL_EVENTS);
}

/**
 * Waits (without blocking this thread) until a cell of a header no longer holds `seen`.
 * The main thread notifies the cell after changing it when the flag beside it says a
 * pump waits (`H_RX_STALLED`): the pump sets the flag before it waits, and
 * `Atomics.waitAsync` looks at the cell before it sleeps, so no change is missed. A
 * notify is several times cheaper than a message. (Send pumps wait differently: see
 * `wakeQueuedSenders`.)
 */
async function untilChanged(header: Int32Array, index: number, seen: number): Promise<void> {
  const waiting = Atomics.waitAsync(header, index, seen);
  if (waiting.async) await waiting.value;
}

/** Wakes both pumps of a socket, so they see it is closing. */
function wakePumps(socket: KernelSocket): void {
  Atomics.notify(socket.header, H_RX_READ);
  socket.wakeSender();
}

/**
 * Wakes the send pumps the main thread has queued (it queues a socket when it puts
 * bytes in a ring whose pump waits). One waiter on the queue for all sockets: an
 * `Atomics.notify` has to look through every waiter of the process, so a waiter per
 * idle socket would make each send cost more the more sockets are open.
 */
async function wakeQueuedSenders(): Promise<void> {
  sendersRead = Atomics.load(control, CTL_SENDERS_READ);
  for (;;) {
    const waiting = Atomics.waitAsync(control, CTL_SENDERS_WRITE, sendersRead);
    if (waiting.async) await waiting.value;
    takeQueuedSenders();
  }
}

/** The read index of the queue of senders to wake. */
let sendersRead = 0;

/** Wakes the send pumps queued so far (see `wakeQueuedSenders`). */
function takeQueuedSenders(): void {
  const write = Atomics.load(control, CTL_SENDERS_WRITE);
  for (; sendersRead !== write; sendersRead = (sendersRead + 1) | 0) {
    const id = Atomics.load(control, CTL_SENDERS_START + (sendersRead & (SENDER_QUEUE_SLOTS - 1)));
    sockets.get(id)?.wakeSender();
  }
  Atomics.store(control, CTL_SENDERS_READ, sendersRead);
}

/** A promise with its resolver, for a loop that waits to be woken. */
function signal(): { promise: Promise<void>; wake: () => void } {
  let wake = () => {};
  const promise = new Promise<void>((resolve) => wake = resolve);
  return { promise, wake };
}

/** One socket as the worker sees it. */
class KernelSocket {
  readonly header: Int32Array;
  readonly headerBytes: Uint8Array;
  readonly receiveRing: RingView;
  readonly sendRing: RingView;
  listener?: Deno.Listener;
  conn?: Deno.Conn;
  /** Connections accepted from the network, waiting for a spare to start in. */
  readonly waiting: Deno.Conn[] = [];
  /** A listener's spares: sockets the main thread made ahead, for the next connections. */
  readonly spares: KernelSocket[] = [];
  /** The listener this socket is a spare of, until a connection starts in it. */
  spareOf: KernelSocket | null = null;
  backlog = 0;
  closing = false;
  /** Set once `finish` has closed the real socket. */
  finished = false;
  released = false;
  /** Settles once the receive pump has ended, and with it its hold on the descriptor. */
  receiving: Promise<void> | null = null;
  /** Wakes the accept loop after the main thread took a waiting connection. */
  wakeAcceptor: (() => void) | null = null;
  /** Settles once the accept loop has ended, and with it the hold on the real socket. */
  acceptLoopEnded: Promise<void> = Promise.resolve();

  #wakeSender: (() => void) | null = null;
  /** Whether bytes went out since bytes last came in: the connection talks both ways. */
  sentSinceRead = false;

  /** Settles when `wakeSender` is next called. */
  untilSenderWoken(): Promise<void> {
    return new Promise((resolve) => this.#wakeSender = resolve);
  }

  /** Wakes the send pump, if it waits. */
  wakeSender(): void {
    const wake = this.#wakeSender;
    this.#wakeSender = null;
    wake?.();
  }

  constructor(readonly id: number, place: HeaderPlace) {
    this.header = new Int32Array(slabs[place.slab], place.offset, HEADER_BYTES / 4);
    this.headerBytes = new Uint8Array(slabs[place.slab], place.offset, HEADER_BYTES);
    this.receiveRing = new RingView(this.header, H_RX_SLAB, H_RX_OFFSET, H_RX_CAPACITY);
    this.sendRing = new RingView(this.header, H_TX_SLAB, H_TX_OFFSET, H_TX_CAPACITY);
  }

  fail(error: unknown): void {
    const code = error instanceof SocketError ? error.code : codeOfDenoError(error);
    Atomics.store(this.header, H_ERRNO, new SocketError(code).errno);
  }

  storeAddresses(local: Deno.NetAddr, peer?: Deno.NetAddr): void {
    Atomics.store(this.header, H_LOCAL_PORT, local.port);
    const localLength = storeHost(this.headerBytes, LOCAL_HOST_OFFSET, local.hostname);
    Atomics.store(this.header, H_LOCAL_HOST_LENGTH, localLength);
    if (peer) {
      Atomics.store(this.header, H_PEER_PORT, peer.port);
      const peerLength = storeHost(this.headerBytes, PEER_HOST_OFFSET, peer.hostname);
      Atomics.store(this.header, H_PEER_HOST_LENGTH, peerLength);
    }
  }
}

const sockets = new Map<number, KernelSocket>();

/**
 * Forgets a socket for good, and tells the main thread that its memory (header and
 * rings) is free to reuse: nothing here touches it any more.
 */
function release(socket: KernelSocket): void {
  if (socket.released) return;
  socket.released = true;
  if (sockets.get(socket.id) === socket) sockets.delete(socket.id);
  Atomics.store(socket.header, H_RELEASED, 1);
}

function closeQuietly(closable: { close(): void } | undefined): void {
  try {
    closable?.close();
  } catch {
    // Already closed: nothing to do.
  }
}

/**
 * Closes the real socket behind a closed one and forgets it: once, whoever comes last
 * (the close request, the send pump done draining, a connect that ended).
 */
function finish(socket: KernelSocket): void {
  if (socket.finished) return;
  socket.finished = true;
  if (socket.conn && socket.receiving) settleLater(socket.receiving);
  if (socket.listener) settleLater(socket.acceptLoopEnded);
  closeQuietly(socket.conn);
  closeQuietly(socket.listener);
  for (const conn of socket.waiting.splice(0)) closeQuietly(conn);
  for (const spare of socket.spares.splice(0)) release(spare);
  wakePumps(socket);
  socket.wakeAcceptor?.();
  if (!socket.listener) return release(socket);
  // A pending accept holds the listening socket open until it fails: only then is the
  // port free, and only then does the main thread's close() return.
  socket.acceptLoopEnded.then(() => {
    Atomics.store(socket.header, H_STATE, STATE_CLOSED);
    announce(socket);
    release(socket);
  });
}

function localAddress(addr: Deno.Addr): Deno.NetAddr {
  return addr as Deno.NetAddr;
}

/** Reads the network into the receive ring while there is room. */
async function pumpReceive(socket: KernelSocket, conn: Deno.Conn): Promise<void> {
  const header = socket.header;
  while (!socket.closing) {
    let capacity = Atomics.load(header, H_RX_CAPACITY);
    const write = Atomics.load(header, H_RX_WRITE);
    const read = Atomics.load(header, H_RX_READ);
    const used = (write - read) | 0;
    if (used === capacity) {
      // Full: stop reading until the main thread frees room. Say so first (the flag
      // tells it to notify), then wait on the index, so room freed meanwhile is not missed.
      Atomics.store(header, H_RX_FILLED, 1);
      Atomics.store(header, H_RX_STALLED, 1);
      await untilChanged(header, H_RX_READ, read);
      Atomics.store(header, H_RX_STALLED, 0);
      continue;
    }
    const offered = Atomics.load(header, H_RX_NEXT_CAPACITY);
    if (used === 0 && offered > 0 && slabs[Atomics.load(header, H_RX_NEXT_SLAB)]) {
      // Traffic filled the ring, and the main thread offers a bigger one: move to it while
      // this one is empty, as kernels tune their buffers. Its place first, then its size.
      Atomics.store(header, H_RX_SLAB, Atomics.load(header, H_RX_NEXT_SLAB));
      Atomics.store(header, H_RX_OFFSET, Atomics.load(header, H_RX_NEXT_OFFSET));
      Atomics.store(header, H_RX_CAPACITY, offered);
      Atomics.store(header, H_RX_NEXT_CAPACITY, 0);
      capacity = offered;
    }
    const ring = socket.receiveRing.bytes();
    if (ring === null) {
      await slabArrived(socket.receiveRing.slab());
      continue;
    }
    const position = write & (capacity - 1);
    const room = Math.min(capacity - used, capacity - position);
    let count: number | null;
    try {
      count = await conn.read(ring.subarray(position, position + room));
    } catch (error) {
      if (!socket.closing) {
        socket.fail(error);
        Atomics.store(header, H_BROKEN, 1);
        announce(socket);
      }
      return;
    }
    if (count === null) {
      Atomics.store(header, H_EOF, 1);
      announce(socket);
      return;
    }
    Atomics.store(header, H_RX_WRITE, (write + count) | 0);
    announce(socket);
    // Fresh bytes on a connection that talks both ways: the answer may follow at once.
    // (A download, which only reads, is not kept waiting.)
    if (used === 0 && socket.sentSinceRead && Atomics.load(control, CTL_MAIN_WAITING) === 1) {
      stayAwake(AFTER_BYTES_MS);
    }
    socket.sentSinceRead = false;
  }
}

/** Writes out what the main thread queued; closes the connection once asked and drained. */
async function pumpSend(socket: KernelSocket, conn: Deno.Conn): Promise<void> {
  const header = socket.header;
  for (;;) {
    const write = Atomics.load(header, H_TX_WRITE);
    const read = Atomics.load(header, H_TX_READ);
    if (write === read || Atomics.load(header, H_BROKEN) === 1) {
      if (socket.closing) break;
      // Say that it waits, then look once more: either this sees the main thread's new
      // bytes, or the main thread sees the flag and has the pump woken.
      const woken = socket.untilSenderWoken();
      Atomics.store(header, H_TX_IDLE, SENDER_IDLE);
      if (Atomics.load(header, H_TX_WRITE) === write && !socket.closing) await woken;
      Atomics.store(header, H_TX_IDLE, SENDER_BUSY);
      continue;
    }
    // The ring's place is read after the write index: the main thread moves the ring
    // only while it is empty, and stores its new place before counting bytes in it.
    const ring = socket.sendRing.bytes();
    if (ring === null) {
      await slabArrived(socket.sendRing.slab());
      continue;
    }
    const capacity = ring.length;
    const position = read & (capacity - 1);
    const count = Math.min((write - read) | 0, capacity - position);
    try {
      const written = await conn.write(ring.subarray(position, position + count));
      Atomics.store(header, H_TX_READ, (read + written) | 0);
      socket.sentSinceRead = true;
    } catch (error) {
      socket.fail(error);
      Atomics.store(header, H_BROKEN, 1);
      // What was queued can never be delivered: drop it, and free the ring.
      Atomics.store(header, H_TX_READ, Atomics.load(header, H_TX_WRITE));
      announce(socket);
      continue;
    }
    // Room freed matters only to a sender that found the ring full: the main thread sets
    // the flag whenever it fills the ring, before it waits for room. Telling the others
    // would only wake a thread for nothing.
    if (Atomics.load(header, H_TX_FILLED) === 1) announce(socket);
  }
  finish(socket);
}

function startPumps(socket: KernelSocket, conn: Deno.Conn): void {
  socket.conn = conn;
  socket.storeAddresses(localAddress(conn.localAddr), localAddress(conn.remoteAddr));
  Atomics.store(socket.header, H_STATE, STATE_CONNECTED);
  announce(socket);
  socket.receiving = pumpReceive(socket, conn);
  pumpSend(socket, conn);
}

/** Accepts connections while fewer than the backlog wait to be taken. */
async function acceptLoop(socket: KernelSocket, listener: Deno.Listener): Promise<void> {
  while (!socket.closing) {
    if (Atomics.load(socket.header, H_PENDING) >= socket.backlog) {
      const wait = signal();
      socket.wakeAcceptor = wait.wake;
      await wait.promise;
      socket.wakeAcceptor = null;
      continue;
    }
    let conn: Deno.Conn;
    try {
      conn = await withDescriptorsSettled(() => listener.accept());
    } catch (error) {
      if (socket.closing) return;
      const code = codeOfDenoError(error);
      if (!OUT_OF_DESCRIPTORS.has(code)) {
        socket.fail(error);
        announce(socket);
        return;
      }
      // No descriptor left: the connection waits in the kernel's queue, and `accept`
      // fails with EMFILE until a socket closes and this loop tries again.
      Atomics.store(socket.header, H_NO_DESCRIPTOR, new SocketError(code).errno);
      outOfDescriptors.add(socket);
      announce(socket);
      await Promise.race([untilSomethingCloses(), delay(ACCEPT_RETRY_MS)]);
      continue;
    }
    if (socket.closing) {
      closeQuietly(conn);
      return;
    }
    // Started at once in the oldest spare, if the main thread gave one, so that its
    // `accept` finds it ready; else it waits for the next spare.
    const spare = socket.spares.shift();
    if (spare) {
      spare.spareOf = null;
      startPumps(spare, conn);
    } else {
      socket.waiting.push(conn);
    }
    Atomics.add(socket.header, H_PENDING, 1);
    announce(socket);
  }
}

/** The errors that say the process has no descriptor left. */
const OUT_OF_DESCRIPTORS = new Set(["EMFILE", "ENFILE"]);
/** How long an accept loop out of descriptors waits at most before it tries again. */
const ACCEPT_RETRY_MS = 100;
/** Loops waiting for a descriptor to be freed. */
let closeWaiters: Array<() => void> = [];
/** Listeners whose last accept found no descriptor (`H_NO_DESCRIPTOR` set). */
const outOfDescriptors = new Set<KernelSocket>();

/** Settles when the main thread next closes a socket. */
function untilSomethingCloses(): Promise<void> {
  return new Promise((resolve) => closeWaiters.push(resolve));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Closed sockets whose descriptor Deno has not freed yet. A closed connection's
 * descriptor is freed only once its cancelled read has settled, and a listener's once
 * its pending accept has: a moment after close(), where close(2) frees it at once.
 * Thousands of closes take hundreds of milliseconds to settle.
 */
let closesSettling = 0;
/** How many closes have settled so far. */
let closesSettled = 0;
/** Waiters for the next close to settle. */
let settleWaiters: Array<() => void> = [];

/** Counts a close as settling until `ended` settles. */
function settleLater(ended: Promise<void>): void {
  closesSettling++;
  ended.then(() => {
    closesSettling--;
    closesSettled++;
    const waiting = settleWaiters;
    settleWaiters = [];
    for (const wake of waiting) wake();
  });
}

/** Settles when a close next settles, or after `ms`, whichever comes first. */
function untilACloseSettles(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    settleWaiters.push(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** How long a call short of descriptors may wait for closes to settle, in ms. */
const SETTLE_DEADLINE_MS = 5000;

/**
 * Runs `attempt`, and again each time a close settles, for as long as it fails for
 * want of descriptors while closes are still settling (see `closesSettling`), up to
 * {@linkcode SETTLE_DEADLINE_MS}. With no close settling, a lack of descriptors is
 * real, and the error goes to the caller at once.
 */
async function withDescriptorsSettled<T>(attempt: () => T | Promise<T>): Promise<T> {
  const deadline = performance.now() + SETTLE_DEADLINE_MS;
  for (;;) {
    const settledBefore = closesSettled;
    try {
      return await attempt();
    } catch (error) {
      if (!OUT_OF_DESCRIPTORS.has(codeOfDenoError(error))) throw error;
      const left = deadline - performance.now();
      if (left <= 0) throw error;
      // A close that settled while the attempt ran may have freed a descriptor already.
      if (closesSettled !== settledBefore) continue;
      if (closesSettling === 0) throw error;
      await untilACloseSettles(left);
    }
  }
}

async function bind(request: Extract<KernelRequest, { op: "bind" }>): Promise<void> {
  const socket = new KernelSocket(request.id, request.header);
  sockets.set(request.id, socket);
  try {
    const where = { hostname: request.host, port: request.port };
    const listener = await withDescriptorsSettled(() => Deno.listen(where));
    socket.listener = listener;
    socket.storeAddresses(localAddress(listener.addr));
    Atomics.store(socket.header, H_STATE, STATE_BOUND);
  } catch (error) {
    socket.fail(error);
    Atomics.store(socket.header, H_STATE, STATE_FRESH);
  }
  announce(socket);
}

/** Connects socket `id`, to the host and port its header holds where the peer's go. */
async function connect(id: number, place: HeaderPlace): Promise<void> {
  const socket = new KernelSocket(id, place);
  sockets.set(id, socket);
  const header = socket.header;
  const host = loadText(
    socket.headerBytes,
    PEER_HOST_OFFSET,
    Atomics.load(header, H_PEER_HOST_LENGTH),
  );
  const port = Atomics.load(header, H_PEER_PORT);
  let conn: Deno.Conn;
  try {
    // Nothing listens on port 0: the operating system refuses it, and Deno rejects it.
    if (port === 0) throw new SocketError("ECONNREFUSED");
    conn = await withDescriptorsSettled(() => Deno.connect({ hostname: host, port }));
  } catch (error) {
    socket.fail(error);
    Atomics.store(socket.header, H_STATE, STATE_FAILED);
    announce(socket);
    if (socket.closing) finish(socket);
    return;
  }
  if (socket.closing) {
    socket.conn = conn;
    finish(socket);
    return;
  }
  startPumps(socket, conn);
  stayAwake(AFTER_CONNECT_MS);
}

function handle(request: KernelRequest): void {
  switch (request.op) {
    case "bind":
      bind(request);
      return;
    case "listen": {
      const socket = sockets.get(request.id);
      if (!socket?.listener) return;
      socket.backlog = Math.max(1, request.backlog);
      Atomics.store(socket.header, H_STATE, STATE_LISTENING);
      announce(socket);
      socket.acceptLoopEnded = acceptLoop(socket, socket.listener);
      return;
    }
    case "slab":
      return addSlab(request.index, request.buffer);
    case "wake-senders":
      for (const socket of sockets.values()) socket.wakeSender();
      return;
  }
}

/**
 * Takes a spare for the listener's next connection (see `Socket.accept` in socket.ts).
 * Each comes as the main thread takes a connection: room for one more in the backlog.
 */
function takeSpare(id: number, place: HeaderPlace, listenerId: number): void {
  const socket = new KernelSocket(id, place);
  sockets.set(id, socket);
  const listener = sockets.get(listenerId);
  if (!listener || listener.closing) return release(socket);
  listener.wakeAcceptor?.();
  const conn = listener.waiting.shift();
  if (conn) return startPumps(socket, conn);
  socket.spareOf = listener;
  listener.spares.push(socket);
}

/** Closes socket `id` as close(2) would: bytes already queued still go out first. */
function closeSocket(id: number): void {
  // A descriptor is about to be free: the next accept may well get it.
  for (const listener of outOfDescriptors) Atomics.store(listener.header, H_NO_DESCRIPTOR, 0);
  outOfDescriptors.clear();
  const waiting = closeWaiters;
  closeWaiters = [];
  for (const wake of waiting) wake();
  const socket = sockets.get(id);
  if (!socket) return;
  socket.closing = true;
  if (socket.spareOf) {
    // A spare no connection started in: nothing to close.
    const spares = socket.spareOf.spares;
    spares.splice(spares.indexOf(socket), 1);
    return release(socket);
  }
  const unsent = Atomics.load(socket.header, H_TX_WRITE) !== Atomics.load(socket.header, H_TX_READ);
  if (socket.conn && unsent && Atomics.load(socket.header, H_BROKEN) === 0) {
    // The send pump closes the connection once what was queued is written.
    wakePumps(socket);
  } else if (socket.conn) {
    // Nothing left to send: free the descriptor now, as close(2) does.
    finish(socket);
  } else if (Atomics.load(socket.header, H_STATE) !== STATE_CONNECTING) {
    finish(socket);
  }
  // Otherwise a connect is still under way, and finishes the socket when it ends.
}

/**
 * Says in the control block that the worker is gone, and why, and wakes every waiter:
 * their calls then fail with that reason instead of waiting for answers that will never
 * come. Whatever escapes a request or a pump ends up here.
 */
function die(reason: unknown): void {
  recordDeath(control, reason);
  for (const socket of sockets.values()) wakePumps(socket);
  parentPort?.close();
}

addEventListener("error", (event) => {
  event.preventDefault();
  die(event.error);
});
addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  die(event.reason);
});

parentPort?.on("message", (request: KernelRequest) => {
  try {
    handle(request);
  } catch (error) {
    die(error);
  }
});
/**
 * Stays waiting on the doorbell, so that the main thread's notify after a message wakes
 * this thread at once; the message is then read by the event loop, woken.
 */
async function answerDoorbell(): Promise<void> {
  for (;;) {
    const waiting = Atomics.waitAsync(control, CTL_DOORBELL, Atomics.load(control, CTL_DOORBELL));
    if (waiting.async) await waiting.value;
    else await Promise.resolve();
  }
}

/** The requests queue's read index: the next request to take. */
let requestsRead = 0;

/**
 * Takes the connects, spares and closes the main thread queued (see `queueRequest`
 * there), in order. Stops early, with `false`, at a request whose slab has not arrived
 * yet.
 */
function takeQueuedRequests(): boolean {
  const write = Atomics.load(control, CTL_REQUESTS_WRITE);
  const wasFull = ((write - requestsRead) | 0) >= REQUEST_QUEUE_SLOTS;
  let complete = true;
  for (; requestsRead !== write; requestsRead = (requestsRead + 1) | 0) {
    const at = requestAt(requestsRead);
    const code = Atomics.load(control, at);
    const id = Atomics.load(control, at + 1);
    const place = { slab: Atomics.load(control, at + 2), offset: Atomics.load(control, at + 3) };
    if (code !== REQUEST_CLOSE && slabs[place.slab] === undefined) {
      complete = false;
      break;
    }
    try {
      if (code === REQUEST_CONNECT) connect(id, place);
      else if (code === REQUEST_ACCEPT) takeSpare(id, place, Atomics.load(control, at + 4));
      else closeSocket(id);
    } catch (error) {
      die(error);
    }
    Atomics.store(control, CTL_REQUESTS_READ, (requestsRead + 1) | 0);
  }
  if (wasFull) {
    Atomics.add(control, CTL_EVENTS, 1);
    Atomics.notify(control, CTL_EVENTS);
  }
  return complete;
}

/** Takes queued requests as they come, for good (see `takeQueuedRequests`). */
async function serveQueuedRequests(): Promise<void> {
  requestsRead = Atomics.load(control, CTL_REQUESTS_READ);
  for (;;) {
    const waiting = Atomics.waitAsync(control, CTL_REQUESTS_WRITE, requestsRead);
    if (waiting.async) await waiting.value;
    while (!takeQueuedRequests()) {
      await slabArrived(Atomics.load(control, requestAt(requestsRead) + 2));
    }
  }
}

/**
 * How long the worker stays awake for the main thread's next move, in ms, after news the
 * main thread is likely to answer at once: bytes on a connection that talks both ways
 * (the answer follows), a connect (programs often connect several times in a row).
 * Waking a sleeping thread costs some 20 us here, as much as the I/O itself; a worker
 * still awake when the main thread queues work takes it at once, and the main thread
 * need not notify it. Bounded, and only after activity: an idle worker sleeps.
 */
const AFTER_BYTES_MS = 0.03;
const AFTER_CONNECT_MS = 0.05;

/** Whether the main thread waits for news this thread has not given yet. */
function mainWaitsForNews(): boolean {
  return Atomics.load(control, CTL_MAIN_WAITING) === 1 &&
    Atomics.load(control, CTL_MAIN_SEEN) === Atomics.load(control, CTL_EVENTS);
}

/**
 * Stays awake up to `ms`, watching the queues of senders and requests, and takes what
 * the main thread puts there; stops once it took something that needs the event loop (a
 * send, a connect), when the main thread waits for news (only the event loop brings
 * it), or when the time is up.
 */
function stayAwake(ms: number): void {
  const until = performance.now() + ms;
  Atomics.store(control, CTL_WORKER_WATCHING, 1);
  try {
    do {
      for (let i = 0; i < 64; i++) {
        if (Atomics.load(control, CTL_SENDERS_WRITE) !== sendersRead) return;
        if (Atomics.load(control, CTL_REQUESTS_WRITE) !== requestsRead) {
          const needsEventLoop = Atomics.load(control, requestAt(requestsRead)) === REQUEST_CONNECT;
          if (!takeQueuedRequests() || needsEventLoop) return;
        }
        if (mainWaitsForNews()) return;
      }
    } while (performance.now() < until);
  } finally {
    // What was queued while the flag was up came without a notify: take it now (or
    // have `serveQueuedRequests` wake for a request whose slab is still on its way).
    Atomics.store(control, CTL_WORKER_WATCHING, 0);
    takeQueuedSenders();
    if (Atomics.load(control, CTL_REQUESTS_WRITE) !== requestsRead && !takeQueuedRequests()) {
      Atomics.notify(control, CTL_REQUESTS_WRITE);
    }
  }
}

wakeQueuedSenders();
serveQueuedRequests();
answerDoorbell();
Atomics.store(control, CTL_KERNEL, KERNEL_READY);
Atomics.notify(control, CTL_KERNEL);
