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
 * This module is the Deno side only. The main thread starts it (`link.ts`), hands it the
 * control block as `workerData`, and asks for things as typed requests (`requests.ts`),
 * handled here through one table. The frequent news, "room freed" in a receive ring and
 * "bytes queued" in a send ring, comes through a notify on the ring's index (`ring.ts`)
 * and the queue of senders to wake, which are cheaper. What the worker does when the
 * process runs out of descriptors is in `descriptor_shortage.ts`.
 *
 * @module
 */

import { parentPort, workerData } from "node:worker_threads";
import { attachControl, control } from "./control.ts";
import {
  descriptorFreed,
  isOutOfDescriptors,
  markOutOfDescriptors,
  settleLater,
  untilADescriptorMayBeFree,
  withDescriptorsSettled,
} from "./descriptor_shortage.ts";
import { codeOfDenoError, SocketError } from "./errors.ts";
import {
  HEADER,
  HEADER_BYTES,
  type HeaderPlace,
  loadAddress,
  STATE,
  storeAddress,
} from "./header.ts";
import { type KernelData, kernelReady, recordDeath } from "./link.ts";
import { CHANGES, REQUESTS, SharedQueue } from "./queue.ts";
import { type Request, RequestServer, type RequestTable } from "./requests.ts";
import { moveToOfferedRing, RingView, RX, SEND_PUMP, TX } from "./ring.ts";
import { announceEvent, mainWaiting, stayAwake as watchQueues } from "./waits.ts";

attachControl((workerData as KernelData).control);

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

/** The queue of changed sockets, for `Poll` (`queue.ts`). */
const changes = new SharedQueue(control, CHANGES);

/** Tells every waiter that something changed, and queues the socket for `Poll`. */
function announce(socket: KernelSocket): void {
  if (Atomics.compareExchange(socket.header, HEADER.QUEUED, 0, 1) === 0) {
    if (!changes.push(socket.id)) Atomics.store(control, CHANGES.overflow, 1);
  }
  announceEvent();
}

/**
 * Waits (without blocking this thread) until a cell of a header no longer holds `seen`.
 * The main thread notifies the cell after changing it when the flag beside it says a
 * pump waits (`RX.STALLED`): the pump sets the flag before it waits, and
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
  Atomics.notify(socket.header, RX.READ);
  socket.wakeSender();
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
  /** Set by shutdown(SHUT_WR): once what was queued is written, the sending ends. */
  shutWrite = false;
  /** Set once the end of the stream has been sent (`Deno.Conn.closeWrite`). */
  wroteEnd = false;
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
    this.receiveRing = new RingView(this.header, RX, slabs);
    this.sendRing = new RingView(this.header, TX, slabs);
  }

  fail(error: unknown): void {
    const code = error instanceof SocketError ? error.code : codeOfDenoError(error);
    Atomics.store(this.header, HEADER.ERRNO, new SocketError(code).errno);
  }

  storeAddresses(local: Deno.NetAddr, peer?: Deno.NetAddr): void {
    storeAddress(this.header, "local", [local.hostname, local.port]);
    if (peer) storeAddress(this.header, "peer", [peer.hostname, peer.port]);
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
  Atomics.store(socket.header, HEADER.RELEASED, 1);
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
    Atomics.store(socket.header, HEADER.STATE, STATE.CLOSED);
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
    let capacity = Atomics.load(header, RX.CAPACITY);
    const write = Atomics.load(header, RX.WRITE);
    const read = Atomics.load(header, RX.READ);
    const used = (write - read) | 0;
    if (used === capacity) {
      // Full: stop reading until the main thread frees room. Say so first (the flag
      // tells it to notify), then wait on the index, so room freed meanwhile is not missed.
      Atomics.store(header, RX.FILLED, 1);
      Atomics.store(header, RX.STALLED, 1);
      await untilChanged(header, RX.READ, read);
      Atomics.store(header, RX.STALLED, 0);
      continue;
    }
    // Traffic filled the ring, and the main thread may offer a bigger one: move to it
    // while this one is empty, as kernels tune their buffers.
    capacity = moveToOfferedRing(header, used, capacity, hasSlab);
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
        Atomics.store(header, HEADER.BROKEN, 1);
        announce(socket);
      }
      return;
    }
    if (count === null) {
      Atomics.store(header, HEADER.EOF, 1);
      announce(socket);
      return;
    }
    Atomics.store(header, RX.WRITE, (write + count) | 0);
    announce(socket);
    // Fresh bytes on a connection that talks both ways: the answer may follow at once.
    // (A download, which only reads, is not kept waiting.)
    if (used === 0 && socket.sentSinceRead && mainWaiting()) {
      stayAwake(AFTER_BYTES_MS);
    }
    socket.sentSinceRead = false;
  }
}

/** Writes out what the main thread queued; closes the connection once asked and drained. */
async function pumpSend(socket: KernelSocket, conn: Deno.Conn): Promise<void> {
  const header = socket.header;
  for (;;) {
    const write = Atomics.load(header, TX.WRITE);
    const read = Atomics.load(header, TX.READ);
    if (write === read || Atomics.load(header, HEADER.BROKEN) === 1) {
      if (socket.closing) break;
      if (socket.shutWrite && !socket.wroteEnd) {
        // Everything queued before shutdown(SHUT_WR) is written: now the end of the stream.
        socket.wroteEnd = true;
        try {
          await conn.closeWrite();
        } catch {
          // The connection is gone already: the peer has its end of the stream.
        }
        continue;
      }
      // Say that it waits, then look once more: either this sees the main thread's new
      // bytes, or the main thread sees the flag and has the pump woken.
      const woken = socket.untilSenderWoken();
      Atomics.store(header, TX.PUMP, SEND_PUMP.WAITING);
      if (Atomics.load(header, TX.WRITE) === write && !socket.closing) await woken;
      Atomics.store(header, TX.PUMP, SEND_PUMP.AT_WORK);
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
      Atomics.store(header, TX.READ, (read + written) | 0);
      socket.sentSinceRead = true;
    } catch (error) {
      socket.fail(error);
      Atomics.store(header, HEADER.BROKEN, 1);
      // What was queued can never be delivered: drop it, and free the ring.
      Atomics.store(header, TX.READ, Atomics.load(header, TX.WRITE));
      announce(socket);
      continue;
    }
    // Room freed matters only to a sender that found the ring full: the main thread sets
    // the flag whenever it fills the ring, before it waits for room. Telling the others
    // would only wake a thread for nothing.
    if (Atomics.load(header, TX.FILLED) === 1) announce(socket);
  }
  finish(socket);
}

function startPumps(socket: KernelSocket, conn: Deno.Conn): void {
  socket.conn = conn;
  socket.storeAddresses(localAddress(conn.localAddr), localAddress(conn.remoteAddr));
  Atomics.store(socket.header, HEADER.STATE, STATE.CONNECTED);
  announce(socket);
  socket.receiving = pumpReceive(socket, conn);
  pumpSend(socket, conn);
}

/** Accepts connections while fewer than the backlog wait to be taken. */
async function acceptLoop(socket: KernelSocket, listener: Deno.Listener): Promise<void> {
  while (!socket.closing) {
    if (Atomics.load(socket.header, HEADER.PENDING) >= socket.backlog) {
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
      if (!isOutOfDescriptors(code)) {
        socket.fail(error);
        announce(socket);
        return;
      }
      // No descriptor left: the connection waits in the kernel's queue, and `accept`
      // fails with EMFILE until a socket closes and this loop tries again.
      markOutOfDescriptors(socket.header, code);
      announce(socket);
      await untilADescriptorMayBeFree();
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
    Atomics.add(socket.header, HEADER.PENDING, 1);
    announce(socket);
  }
}

/** A request of one kind. */
type RequestOf<Op extends Request["op"]> = Extract<Request, { op: Op }>;

async function bind(request: RequestOf<"bind">): Promise<void> {
  const socket = new KernelSocket(request.id, request.header);
  sockets.set(request.id, socket);
  try {
    const where = { hostname: request.host, port: request.port };
    const listener = await withDescriptorsSettled(() => Deno.listen(where));
    socket.listener = listener;
    socket.storeAddresses(localAddress(listener.addr));
    Atomics.store(socket.header, HEADER.STATE, STATE.BOUND);
  } catch (error) {
    socket.fail(error);
    Atomics.store(socket.header, HEADER.STATE, STATE.FRESH);
  }
  announce(socket);
}

/** Connects socket `id`, to the host and port its header holds where the peer's go. */
async function connect({ id, header: place }: RequestOf<"connect">): Promise<void> {
  const socket = new KernelSocket(id, place);
  sockets.set(id, socket);
  const [host, port] = loadAddress(socket.header, "peer");
  let conn: Deno.Conn;
  try {
    // Nothing listens on port 0: the operating system refuses it, and Deno rejects it.
    if (port === 0) throw new SocketError("ECONNREFUSED");
    conn = await withDescriptorsSettled(() => Deno.connect({ hostname: host, port }));
  } catch (error) {
    socket.fail(error);
    Atomics.store(socket.header, HEADER.STATE, STATE.FAILED);
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

/** Starts accepting on a bound socket. */
function listen(request: RequestOf<"listen">): void {
  const socket = sockets.get(request.id);
  if (!socket?.listener) return;
  socket.backlog = Math.max(1, request.backlog);
  Atomics.store(socket.header, HEADER.STATE, STATE.LISTENING);
  announce(socket);
  socket.acceptLoopEnded = acceptLoop(socket, socket.listener);
}

/**
 * Takes a spare for the listener's next connection (see `Socket.accept` in socket.ts).
 * Each comes as the main thread takes a connection: room for one more in the backlog.
 */
function takeSpare({ id, header: place, listenerId }: RequestOf<"spare">): void {
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
function closeSocket({ id }: RequestOf<"close">): void {
  descriptorFreed();
  const socket = sockets.get(id);
  if (!socket) return;
  socket.closing = true;
  if (socket.spareOf) {
    // A spare no connection started in: nothing to close.
    const spares = socket.spareOf.spares;
    spares.splice(spares.indexOf(socket), 1);
    return release(socket);
  }
  const unsent = Atomics.load(socket.header, TX.WRITE) !== Atomics.load(socket.header, TX.READ);
  if (socket.conn && unsent && Atomics.load(socket.header, HEADER.BROKEN) === 0) {
    // The send pump closes the connection once what was queued is written.
    wakePumps(socket);
  } else if (socket.conn) {
    // Nothing left to send: free the descriptor now, as close(2) does.
    finish(socket);
  } else if (Atomics.load(socket.header, HEADER.STATE) !== STATE.CONNECTING) {
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
  recordDeath(reason);
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

/** The handler of each kind of request. */
const table: RequestTable = {
  connect: (request) => void connect(request),
  spare: takeSpare,
  close: closeSocket,
  bind: (request) => void bind(request),
  listen,
  "shut-write": ({ id }) => {
    const socket = sockets.get(id);
    if (!socket) return;
    socket.shutWrite = true;
    socket.wakeSender();
  },
  slab: (request) => addSlab(request.index, request.buffer),
  "wake-senders": () => {
    for (const socket of sockets.values()) socket.wakeSender();
  },
};

function hasSlab(slab: number): boolean {
  return slabs[slab] !== undefined;
}

const server = new RequestServer(
  table,
  (id) => sockets.get(id)?.wakeSender(),
  slabArrived,
  hasSlab,
);

/**
 * How long the worker stays awake for the main thread's next move, in ms, after news the
 * main thread is likely to answer at once: bytes on a connection that talks both ways
 * (the answer follows), a connect (programs often connect several times in a row).
 * Waking a sleeping thread costs as much as the I/O itself (bench/RESULTS.md); a worker
 * still awake when the main thread queues work takes it at once, and the main thread
 * need not notify it. Bounded, and only after activity: an idle worker sleeps.
 */
const AFTER_BYTES_MS = 0.03;
const AFTER_CONNECT_MS = 0.05;

/**
 * Stays awake up to `ms` (see `watchQueues` in waits.ts), taking what the main thread
 * queues; stops once it took something that needs the event loop (a send, a connect).
 */
function stayAwake(ms: number): void {
  watchQueues(ms, () => {
    if (server.sendersQueued()) return true;
    if (!server.requestsQueued()) return false;
    const needsEventLoop = server.nextIsConnect();
    return !server.takeRequests(die) || needsEventLoop;
  }, () => {
    // What was queued while the flag was up came without a notify: take it now (or
    // have the request loop wake for a request whose slab is still on its way).
    server.takeSenders();
    if (server.requestsQueued() && !server.takeRequests(die)) {
      Atomics.notify(control, REQUESTS.write);
    }
  });
}

server.start(die);
kernelReady();
