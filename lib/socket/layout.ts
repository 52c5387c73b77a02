/**
 * The shared-memory layout that the main thread and the I/O worker agree on.
 *
 * There is one control block for the whole process, and one header per socket, an
 * `Int32Array` over a slot of a slab (`memory.ts`), plus two byte rings per connection,
 * also slots of slabs; the header says where its rings are (slab and offset).
 *
 * The control block holds the event counter (bumped and notified by the worker after
 * every change a waiter could care about), the worker's own state (starting, ready or
 * dead, and why it died), and the queue of changed sockets that `Poll` reads.
 *
 * Each ring has one producer and one consumer. Its indices only grow (modulo 2^32);
 * its capacity is a power of two, so `index & (capacity - 1)` is the position. A ring
 * grows by moving to a bigger slot, and only while it is empty, so no byte ever moves:
 * the send ring when the main thread (its producer) finds it empty; the receive ring
 * when the worker (its producer) finds it empty and a bigger slot offered by the main
 * thread, which allocates all memory. A ring's place is stored before the write index
 * that first counts bytes in it, and read after it.
 *
 * @example
 * ```ts
 * import { copyIntoRing, copyOutOfRing } from "./layout.ts";
 * const ring = new Uint8Array(8);
 * copyIntoRing(ring, 8, 6, new Uint8Array([1, 2, 3, 4]));
 * console.log(copyOutOfRing(ring, 8, 6, 4)); // Uint8Array(4) [ 1, 2, 3, 4 ]
 * ```
 * @module
 */

// The control block.
/** Index of the event counter in the control block. */
export const CTL_EVENTS = 0;
/** Index of the worker's state: one of the `KERNEL_*` values. */
export const CTL_KERNEL = 1;
/** Index of the change queue's write index. */
export const CTL_CHANGES_WRITE = 2;
/** Index of the change queue's read index. */
export const CTL_CHANGES_READ = 3;
/** Index of the flag set when the change queue overflowed. */
export const CTL_CHANGES_OVERFLOW = 4;
/** Index of the length of the text saying why the worker died. */
export const CTL_DEATH_LENGTH = 5;
/** Index of the doorbell: rung (bumped, then notified) by the main thread after each message. */
export const CTL_DOORBELL = 6;
/** Index of the flag the main thread sets while it waits for the worker's news. */
export const CTL_MAIN_WAITING = 7;
/**
 * Index of the event count the main thread waits to see move, while it waits: if it is
 * the current count, the main thread waits for news not given yet.
 */
export const CTL_MAIN_SEEN = 8;
/**
 * Index of the flag the worker sets while it stays awake watching the queues of senders
 * and of requests: what is queued meanwhile needs no notify.
 */
export const CTL_WORKER_WATCHING = 9;
/** Index of the change queue's first slot. */
export const CTL_CHANGES_START = 12;
/** Slots in the change queue (a power of two). */
export const CHANGE_QUEUE_SLOTS = 4096;
/** Index of the write index of the queue of sockets whose sender the worker should wake. */
export const CTL_SENDERS_WRITE = CTL_CHANGES_START + CHANGE_QUEUE_SLOTS;
/** Index of that queue's read index. */
export const CTL_SENDERS_READ = CTL_SENDERS_WRITE + 1;
/** Index of that queue's first slot. */
export const CTL_SENDERS_START = CTL_SENDERS_WRITE + 4;
/**
 * Slots in that queue (a power of two). A socket is queued at most once at a time, so it
 * holds as many sockets as a process is likely to have open; past that, a message.
 */
export const SENDER_QUEUE_SLOTS = 65536;
/** Index of the write index of the queue of requests (connect, accept, close). */
export const CTL_REQUESTS_WRITE = CTL_SENDERS_START + SENDER_QUEUE_SLOTS;
/** Index of that queue's read index. */
export const CTL_REQUESTS_READ = CTL_REQUESTS_WRITE + 1;
/** Index of that queue's first slot. */
export const CTL_REQUESTS_START = CTL_REQUESTS_WRITE + 4;
/** Slots in the queue of requests (a power of two). */
export const REQUEST_QUEUE_SLOTS = 8192;
/**
 * Integers in one request: what (`REQUEST_*`), the socket's id, its header's slab and
 * offset, and for an accept the listener's id. A connect's host and port are in the
 * header, where the peer's address goes.
 */
export const REQUEST_INTS = 5;
/** A request to connect. */
export const REQUEST_CONNECT = 1;
/** A spare: a socket for a listener's next connection to start in (`Socket.accept`). */
export const REQUEST_ACCEPT = 2;
/** A request to close. */
export const REQUEST_CLOSE = 3;

/**
 * Index in the control block of the first integer of request number `index` (it counts
 * requests since the start, and the queue wraps).
 *
 * @example
 * ```ts
 * import { CTL_REQUESTS_START, requestAt } from "./layout.ts";
 * console.log(requestAt(0) === CTL_REQUESTS_START); // true
 * ```
 */
export function requestAt(index: number): number {
  return CTL_REQUESTS_START + (index & (REQUEST_QUEUE_SLOTS - 1)) * REQUEST_INTS;
}
/** Byte offset of the text saying why the worker died. */
export const CTL_DEATH_OFFSET = (CTL_REQUESTS_START + REQUEST_QUEUE_SLOTS * REQUEST_INTS) * 4;
/** Room for that text, in bytes. */
export const DEATH_BYTES = 512;
/** Size of the control block, in bytes. */
export const CTL_BYTES = CTL_DEATH_OFFSET + DEATH_BYTES;

/** The worker is loading. */
export const KERNEL_STARTING = 0;
/** The worker serves requests. */
export const KERNEL_READY = 1;
/** The worker is gone: every wait fails from now on. */
export const KERNEL_DEAD = 2;

// A socket's header.
/** Index of the socket's state (one of the `STATE_*` values). */
export const H_STATE = 0;
/** Index of the pending error, an errno number (0 for none), reported once. */
export const H_ERRNO = 1;
/** Index of the end-of-stream flag: the peer will send no more. */
export const H_EOF = 2;
/** Index of the broken flag: the connection is gone; sends fail. */
export const H_BROKEN = 3;
/** Index of a listener's count of connections waiting to be accepted. */
export const H_PENDING = 4;
/** Index of the flag saying the socket sits in the change queue. */
export const H_QUEUED = 5;
/** Index of the flag the worker sets once it is done with the socket and its memory. */
export const H_RELEASED = 6;
/** Index of the errno of a listener whose accept found no descriptor left (0: none). */
export const H_NO_DESCRIPTOR = 7;
/** Index of the receive ring's capacity. */
export const H_RX_CAPACITY = 8;
/** Index of the receive ring's read index (the main thread's). */
export const H_RX_READ = 9;
/** Index of the receive ring's write index (the worker's). */
export const H_RX_WRITE = 10;
/** Index of the flag: the worker stopped reading for lack of room. */
export const H_RX_STALLED = 11;
/** Index of the flag: the receive ring was full since it last grew. */
export const H_RX_FILLED = 12;
/** Index of the receive ring's slab. */
export const H_RX_SLAB = 13;
/** Index of the receive ring's byte offset in its slab. */
export const H_RX_OFFSET = 14;
/** Index of the capacity of a bigger receive ring offered to the worker (0: none). */
export const H_RX_NEXT_CAPACITY = 15;
/** Index of the send ring's capacity. */
export const H_TX_CAPACITY = 16;
/** Index of the send ring's read index (the worker's). */
export const H_TX_READ = 17;
/** Index of the send ring's write index (the main thread's). */
export const H_TX_WRITE = 18;
/**
 * Index of the send pump's state: `SENDER_BUSY`, `SENDER_IDLE` (it waits for bytes to
 * send) or `SENDER_CALLED` (the main thread has queued it to be woken).
 */
export const H_TX_IDLE = 19;
/** The send pump is at work. */
export const SENDER_BUSY = 0;
/** The send pump waits for bytes; whoever queues some must have it woken. */
export const SENDER_IDLE = 1;
/** The send pump is queued to be woken. */
export const SENDER_CALLED = 2;
/** Index of the flag: the send ring was full since it last grew. */
export const H_TX_FILLED = 20;
/** Index of the send ring's slab. */
export const H_TX_SLAB = 21;
/** Index of the send ring's byte offset in its slab. */
export const H_TX_OFFSET = 22;
/** Index of the local port. */
export const H_LOCAL_PORT = 24;
/** Index of the peer's port. */
export const H_PEER_PORT = 25;
/** Index of the length of the local host text. */
export const H_LOCAL_HOST_LENGTH = 26;
/** Index of the length of the peer's host text. */
export const H_PEER_HOST_LENGTH = 27;
/** Index of the slab of the bigger receive ring offered to the worker. */
export const H_RX_NEXT_SLAB = 28;
/** Index of the byte offset of the bigger receive ring offered to the worker. */
export const H_RX_NEXT_OFFSET = 29;
/** Byte offset of the local host text (an address, as Deno gives it). */
export const LOCAL_HOST_OFFSET = 128;
/** Room for the local host text, in bytes: an IPv6 address takes at most 45. */
export const LOCAL_HOST_BYTES = 128;
/** Byte offset of the peer's host text: the name to connect to, then the peer's address. */
export const PEER_HOST_OFFSET = 256;
/** The longest host name, in bytes, as DNS allows it. */
export const MAX_HOST_BYTES = 253;
/** Room for the peer's host text, in bytes: the longest host name fits whole. */
export const PEER_HOST_BYTES = 256;
/** Size of a socket's header, in bytes. */
export const HEADER_BYTES = 512;

/** A socket nobody has bound or connected yet. */
export const STATE_FRESH = 0;
/** The worker is binding it. */
export const STATE_BINDING = 1;
/** Bound (and, as `Deno.listen` does both, listening in the kernel). */
export const STATE_BOUND = 2;
/** Accepting connections. */
export const STATE_LISTENING = 3;
/** A connect is under way. */
export const STATE_CONNECTING = 4;
/** Connected. */
export const STATE_CONNECTED = 5;
/** The connect failed; the error is in `H_ERRNO`. */
export const STATE_FAILED = 6;
/** The worker has closed the listener for good: its port is free again. */
export const STATE_CLOSED = 7;

/** The first capacity of a ring, in bytes. */
export const INITIAL_RING_BYTES = 16 * 1024;
/** The largest capacity of a ring, in bytes: a connection's buffer size each way. */
export const MAX_RING_BYTES = 1024 * 1024;

/**
 * Copies bytes into a ring at a (growing) index, wrapping at its capacity.
 *
 * @example
 * ```ts
 * import { copyIntoRing } from "./layout.ts";
 * const ring = new Uint8Array(4);
 * copyIntoRing(ring, 4, 3, new Uint8Array([7, 8]));
 * console.log(ring); // Uint8Array(4) [ 8, 0, 0, 7 ]
 * ```
 */
export function copyIntoRing(
  ring: Uint8Array,
  capacity: number,
  index: number,
  bytes: Uint8Array,
): void {
  const position = index & (capacity - 1);
  const first = Math.min(bytes.length, capacity - position);
  ring.set(first === bytes.length ? bytes : bytes.subarray(0, first), position);
  if (first < bytes.length) ring.set(bytes.subarray(first), 0);
}

/**
 * Copies `count` bytes out of a ring, from a (growing) index, wrapping at its capacity.
 *
 * @example
 * ```ts
 * import { copyOutOfRing } from "./layout.ts";
 * console.log(copyOutOfRing(new Uint8Array([8, 0, 0, 7]), 4, 3, 2)); // Uint8Array(2) [ 7, 8 ]
 * ```
 */
export function copyOutOfRing(
  ring: Uint8Array,
  capacity: number,
  index: number,
  count: number,
): Uint8Array {
  const out = freshBytes(count);
  const position = index & (capacity - 1);
  const first = Math.min(count, capacity - position);
  out.set(ring.subarray(position, position + first));
  if (first < count) out.set(ring.subarray(0, count - first), first);
  return out;
}

/** Reads at least this long are carved out of a shared block; shorter ones get their own. */
const POOLED_MIN_BYTES = 4096;
/** The size of the blocks that long reads are carved out of. */
const POOL_BLOCK_BYTES = 1024 * 1024;
let pool = new Uint8Array(0);
let poolOffset = 0;

/**
 * A fresh array of `count` bytes to copy a read into. Allocating a buffer costs far more
 * than filling it, so long reads share 1 MiB blocks, handed out front to back and never
 * reused (the pieces are independent arrays over one buffer, as Node pools its Buffers).
 */
function freshBytes(count: number): Uint8Array {
  if (count < POOLED_MIN_BYTES) return new Uint8Array(count);
  if (pool.length - poolOffset < count) {
    pool = new Uint8Array(Math.max(POOL_BLOCK_BYTES, count));
    poolOffset = 0;
  }
  const piece = pool.subarray(poolOffset, poolOffset + count);
  poolOffset += count;
  return piece;
}

/**
 * Marks the worker dead in the control block, with why, and wakes every waiter: their
 * calls then fail with that reason. The worker does it when something escapes it; the
 * main thread when it learns of a worker that could not start or exited.
 *
 * @example
 * ```ts
 * import { CTL_BYTES, CTL_KERNEL, KERNEL_DEAD, recordDeath } from "./layout.ts";
 * const control = new Int32Array(new SharedArrayBuffer(CTL_BYTES));
 * recordDeath(control, new Error("boom"));
 * console.log(Atomics.load(control, CTL_KERNEL) === KERNEL_DEAD); // true
 * ```
 */
export function recordDeath(control: Int32Array, reason: unknown): void {
  const text = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
  const bytes = new Uint8Array(control.buffer);
  Atomics.store(control, CTL_DEATH_LENGTH, storeText(bytes, CTL_DEATH_OFFSET, text, DEATH_BYTES));
  Atomics.store(control, CTL_KERNEL, KERNEL_DEAD);
  Atomics.add(control, CTL_EVENTS, 1);
  Atomics.notify(control, CTL_EVENTS);
}

/** Writes a text into shared bytes, cut to `room` bytes; returns its length in bytes. */
export function storeText(bytes: Uint8Array, offset: number, text: string, room: number): number {
  const encoded = new TextEncoder().encode(text).subarray(0, room);
  bytes.set(encoded, offset);
  return encoded.length;
}

/**
 * Writes a host text into a header's bytes, whole; returns its length in bytes. The
 * main thread refuses a name longer than {@linkcode MAX_HOST_BYTES} before it gets here.
 */
export function storeHost(headerBytes: Uint8Array, offset: number, host: string): number {
  const room = offset === PEER_HOST_OFFSET ? PEER_HOST_BYTES : LOCAL_HOST_BYTES;
  const encoded = new TextEncoder().encode(host);
  if (encoded.length > room) throw new RangeError(`host text too long for its room: ${host}`);
  headerBytes.set(encoded, offset);
  return encoded.length;
}

/** Reads a text out of shared bytes (a host, or why the worker died). */
export function loadText(bytes: Uint8Array, offset: number, length: number): string {
  return new TextDecoder().decode(bytes.slice(offset, offset + length));
}
