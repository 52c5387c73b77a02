/**
 * The rings: each connection's two byte queues in shared memory, with their growth.
 *
 * A receive ring is filled by the worker (from the network) and drained by the main
 * thread (`recv`); a send ring the other way round (`send`, then the network). Each has
 * one producer and one consumer. Its indices only grow (modulo 2^32); its capacity is a
 * power of two, so `index & (capacity - 1)` is the position. Its cells are in the
 * socket's header ({@linkcode RX}, {@linkcode TX}); its bytes in a slot of a slab.
 *
 * A ring grows by moving to a bigger slot, and only while it is empty, so no byte ever
 * moves: the send ring when the main thread (its producer) finds it empty after traffic
 * filled it; the receive ring when the worker (its producer) finds it empty and a bigger
 * slot offered by the main thread, which allocates all memory. A ring's place is stored
 * before the write index that first counts bytes in it, and read after it.
 *
 * The main thread's end is {@linkcode ConnectionRings}; the worker's, {@linkcode RingView}
 * and {@linkcode moveToOfferedRing}, used by its pumps (`kernel.ts`).
 *
 * @example
 * ```ts
 * import { copyIntoRing, copyOutOfRing } from "./ring.ts";
 * const ring = new Uint8Array(8);
 * copyIntoRing(ring, 8, 6, new Uint8Array([1, 2, 3, 4]));
 * console.log(copyOutOfRing(ring, 8, 6, 4)); // Uint8Array(4) [ 1, 2, 3, 4 ]
 * ```
 * @module
 */

import type { SlabAllocator, Slot } from "./memory.ts";

/** The receive ring's cells in a socket's header. */
export const RX = {
  /** Its capacity, in bytes. */
  CAPACITY: 8,
  /** Its read index (the main thread's). */
  READ: 9,
  /** Its write index (the worker's). */
  WRITE: 10,
  /** Set while the worker has stopped reading for lack of room. */
  STALLED: 11,
  /** Set when the ring was full since it last grew. */
  FILLED: 12,
  /** Its slab. */
  SLAB: 13,
  /** Its byte offset in its slab. */
  OFFSET: 14,
  /** The capacity of a bigger ring offered to the worker (0: none). */
  NEXT_CAPACITY: 15,
  /** The slab of that bigger ring. */
  NEXT_SLAB: 16,
  /** The byte offset of that bigger ring. */
  NEXT_OFFSET: 17,
} as const;

/** The send ring's cells in a socket's header. */
export const TX = {
  /** Its capacity, in bytes. */
  CAPACITY: 18,
  /** Its read index (the worker's). */
  READ: 19,
  /** Its write index (the main thread's). */
  WRITE: 20,
  /** The send pump's state: one of the {@linkcode SEND_PUMP} values. */
  PUMP: 21,
  /** Set when the ring was full since it last grew. */
  FILLED: 22,
  /** Its slab. */
  SLAB: 23,
  /** Its byte offset in its slab. */
  OFFSET: 24,
} as const;

/** The send pump's three states, in `TX.PUMP`. */
export const SEND_PUMP = {
  /** At work: it will see new bytes by itself. */
  AT_WORK: 0,
  /** Waiting for bytes: whoever queues some must have it woken (`queue.ts`, senders). */
  WAITING: 1,
  /** Already queued to be woken. */
  CALLED: 2,
} as const;

/** The first capacity of a ring, in bytes. */
export const INITIAL_RING_BYTES = 16 * 1024;
/** The largest capacity of a ring, in bytes: a connection's buffer size each way. */
export const MAX_RING_BYTES = 1024 * 1024;

/**
 * The most bytes each of a connection's rings may hold: its buffers' limits, which
 * `SO_RCVBUF` and `SO_SNDBUF` set (`options.ts`).
 *
 * @example
 * ```ts
 * import type { BufferLimits } from "./ring.ts";
 * const limits: BufferLimits = { receive: 65536, send: 16384 };
 * ```
 */
export interface BufferLimits {
  /** The receive buffer's limit, in bytes: a power of two. */
  receive: number;
  /** The send buffer's limit, in bytes: a power of two. */
  send: number;
}

/**
 * Copies bytes into a ring at a (growing) index, wrapping at its capacity.
 *
 * @example
 * ```ts
 * import { copyIntoRing } from "./ring.ts";
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
 * Copies `count` bytes out of a ring, from a (growing) index, wrapping at its capacity,
 * into `out` (a fresh array unless given).
 *
 * @example
 * ```ts
 * import { copyOutOfRing } from "./ring.ts";
 * console.log(copyOutOfRing(new Uint8Array([8, 0, 0, 7]), 4, 3, 2)); // Uint8Array(2) [ 7, 8 ]
 * ```
 */
export function copyOutOfRing(
  ring: Uint8Array,
  capacity: number,
  index: number,
  count: number,
  out: Uint8Array = freshBytes(count),
): Uint8Array {
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
 * The main thread's end of a connection's two rings: it drains the receive ring and
 * fills the send ring, and makes them grow with traffic.
 *
 * @example
 * ```ts
 * import { SlabAllocator } from "./memory.ts";
 * import { ConnectionRings } from "./ring.ts";
 * const memory = new SlabAllocator(() => {});
 * const header = new Int32Array(memory.slabs[memory.allocate(512).slab], 0, 128);
 * const rings = new ConnectionRings(header, memory);
 * console.log(rings.put(new Uint8Array([1, 2, 3])), rings.unsent()); // 3 3
 * rings.free();
 * ```
 */
export class ConnectionRings {
  /** The receive ring's slot; the worker may move to `#receiveOffer`. */
  #receiveSlot: Slot | null;
  /** A bigger receive ring offered to the worker, not yet taken. */
  #receiveOffer: Slot | null = null;
  #sendSlot: Slot | null;

  /**
   * Gives a new connection its two rings, and says where they are in its header. They
   * grow up to `limits` (`SO_RCVBUF`, `SO_SNDBUF`), which the socket may change later.
   */
  constructor(
    readonly header: Int32Array,
    readonly memory: SlabAllocator,
    readonly limits: BufferLimits = { receive: MAX_RING_BYTES, send: MAX_RING_BYTES },
  ) {
    const receive = this.#receiveSlot = memory.allocate(
      Math.min(INITIAL_RING_BYTES, limits.receive),
    );
    const send = this.#sendSlot = memory.allocate(Math.min(INITIAL_RING_BYTES, limits.send));
    Atomics.store(header, RX.SLAB, receive.slab);
    Atomics.store(header, RX.OFFSET, receive.offset);
    Atomics.store(header, RX.CAPACITY, receive.size);
    Atomics.store(header, TX.SLAB, send.slab);
    Atomics.store(header, TX.OFFSET, send.offset);
    Atomics.store(header, TX.CAPACITY, send.size);
  }

  /** Bytes received and not yet taken. */
  unread(): number {
    return (Atomics.load(this.header, RX.WRITE) - Atomics.load(this.header, RX.READ)) | 0;
  }

  /** Bytes queued to send that the worker has not yet handed to the network. */
  unsent(): number {
    return (Atomics.load(this.header, TX.WRITE) - Atomics.load(this.header, TX.READ)) | 0;
  }

  /** Whether the send ring has room. */
  hasSendRoom(): boolean {
    return this.unsent() < Math.min(Atomics.load(this.header, TX.CAPACITY), this.limits.send);
  }

  /**
   * Takes up to `max` (> 0) received bytes, and at most the receive limit; `null` when
   * there are none.
   */
  take(max: number): Uint8Array | null {
    const available = this.unread();
    if (available <= 0) return null;
    const count = Math.min(available, max, this.limits.receive);
    return this.#takeInto(freshBytes(count), count, available);
  }

  /**
   * Takes received bytes into `target` (not empty), as many as fit and the receive limit
   * allows, and returns their count: 0 when there are none.
   */
  takeInto(target: Uint8Array): number {
    const available = this.unread();
    if (available <= 0) return 0;
    const count = Math.min(available, target.length, this.limits.receive);
    this.#takeInto(target, count, available);
    return count;
  }

  #takeInto(target: Uint8Array, count: number, available: number): Uint8Array {
    const header = this.header;
    const read = Atomics.load(header, RX.READ);
    const ring = this.#receiveRing(); // read after the write index: see the module doc
    copyOutOfRing(ring, ring.length, read, count, target);
    Atomics.store(header, RX.READ, (read + count) | 0);
    if (count === available) this.#offerBiggerReceiveRing(ring.length);
    // The worker may have stopped reading for lack of room: now there is some.
    if (Atomics.load(header, RX.STALLED) === 1) Atomics.notify(header, RX.READ);
    return target;
  }

  /**
   * Queues what fits of `bytes` (not empty) to send, and returns how many it took: 0
   * when the ring is full. Then `callPumpIfWaiting` says whether the caller must have
   * the send pump woken.
   */
  put(bytes: Uint8Array): number {
    const header = this.header;
    const write = Atomics.load(header, TX.WRITE);
    const read = Atomics.load(header, TX.READ);
    const used = (write - read) | 0;
    let slot = this.#sendSlot as Slot;
    const limit = this.limits.send;
    if (used === 0 && slot.size < limit && Atomics.load(header, TX.FILLED) === 1) {
      // Traffic filled the ring: move to one twice as big while it is empty (the worker
      // is done with the old one, having sent all of it). Its place first, then its size.
      const bigger = this.memory.allocate(slot.size * 2);
      Atomics.store(header, TX.SLAB, bigger.slab);
      Atomics.store(header, TX.OFFSET, bigger.offset);
      Atomics.store(header, TX.CAPACITY, bigger.size);
      Atomics.store(header, TX.FILLED, 0);
      this.memory.free(slot);
      this.#sendSlot = slot = bigger;
    }
    const capacity = slot.size;
    const room = Math.min(capacity, limit) - used;
    if (room <= 0) {
      Atomics.store(header, TX.FILLED, 1);
      return 0;
    }
    const count = Math.min(room, bytes.length);
    copyIntoRing(this.memory.bytes(slot), capacity, write, bytes.subarray(0, count));
    Atomics.store(header, TX.WRITE, (write + count) | 0);
    if (count === room) Atomics.store(header, TX.FILLED, 1);
    return count;
  }

  /** After `put`: whether the send pump was waiting for bytes, now marked as called. */
  callPumpIfWaiting(): boolean {
    return Atomics.compareExchange(this.header, TX.PUMP, SEND_PUMP.WAITING, SEND_PUMP.CALLED) ===
      SEND_PUMP.WAITING;
  }

  /** Gives the rings back to the allocator: nobody uses them any more. */
  free(): void {
    for (const slot of [this.#receiveSlot, this.#receiveOffer, this.#sendSlot]) {
      if (slot) this.memory.free(slot);
    }
    this.#receiveSlot = this.#receiveOffer = this.#sendSlot = null;
  }

  /** The receive ring's bytes, where the header says they are now. */
  #receiveRing(): Uint8Array {
    const offer = this.#receiveOffer;
    if (offer && Atomics.load(this.header, RX.NEXT_CAPACITY) === 0) {
      // The worker took the bigger ring (and is done with the old one, which was empty).
      if (this.#receiveSlot) this.memory.free(this.#receiveSlot);
      this.#receiveSlot = offer;
      this.#receiveOffer = null;
    }
    return this.memory.bytes(this.#receiveSlot as Slot);
  }

  /**
   * After the receive ring was found full and then emptied, offers the worker a ring
   * twice as big; it moves there the next time it finds the ring empty.
   */
  #offerBiggerReceiveRing(capacity: number): void {
    const header = this.header;
    if (this.#receiveOffer || capacity >= this.limits.receive) return;
    if (Atomics.load(header, RX.FILLED) !== 1) return;
    const offer = this.#receiveOffer = this.memory.allocate(capacity * 2);
    Atomics.store(header, RX.FILLED, 0);
    Atomics.store(header, RX.NEXT_SLAB, offer.slab);
    Atomics.store(header, RX.NEXT_OFFSET, offer.offset);
    Atomics.store(header, RX.NEXT_CAPACITY, offer.size);
  }
}

/**
 * The worker's side of the receive ring's growth: with the ring empty and a bigger one
 * offered whose slab has arrived, moves to it (its place first, then its size) and
 * returns the new capacity; otherwise returns `capacity`.
 *
 * @example
 * ```ts ignore
 * capacity = moveToOfferedRing(header, used, capacity, (slab) => slabs[slab] !== undefined);
 * ```
 */
export function moveToOfferedRing(
  header: Int32Array,
  used: number,
  capacity: number,
  hasSlab: (slab: number) => boolean,
): number {
  const offered = Atomics.load(header, RX.NEXT_CAPACITY);
  if (used !== 0 || offered === 0 || !hasSlab(Atomics.load(header, RX.NEXT_SLAB))) return capacity;
  Atomics.store(header, RX.SLAB, Atomics.load(header, RX.NEXT_SLAB));
  Atomics.store(header, RX.OFFSET, Atomics.load(header, RX.NEXT_OFFSET));
  Atomics.store(header, RX.CAPACITY, offered);
  Atomics.store(header, RX.NEXT_CAPACITY, 0);
  return offered;
}

/**
 * A ring's bytes as the worker sees them, where the header places them: cached until
 * the ring moves.
 *
 * @example
 * ```ts ignore
 * const receive = new RingView(header, RX, slabs);
 * const bytes = receive.bytes(); // null while its slab is on its way
 * ```
 */
export class RingView {
  #slab = -1;
  #offset = -1;
  #bytes: Uint8Array = new Uint8Array(0);

  constructor(
    readonly header: Int32Array,
    readonly cells: { readonly SLAB: number; readonly OFFSET: number; readonly CAPACITY: number },
    readonly slabs: readonly SharedArrayBuffer[],
  ) {}

  /** The ring's bytes now, or null while its slab is on its way. */
  bytes(): Uint8Array | null {
    const slab = Atomics.load(this.header, this.cells.SLAB);
    const offset = Atomics.load(this.header, this.cells.OFFSET);
    const capacity = Atomics.load(this.header, this.cells.CAPACITY);
    if (slab !== this.#slab || offset !== this.#offset || capacity !== this.#bytes.length) {
      const buffer = this.slabs[slab];
      if (buffer === undefined) return null;
      this.#bytes = new Uint8Array(buffer, offset, capacity);
      this.#slab = slab;
      this.#offset = offset;
    }
    return this.#bytes;
  }

  /** The ring's slab number, for waiting on it. */
  slab(): number {
    return Atomics.load(this.header, this.cells.SLAB);
  }
}
