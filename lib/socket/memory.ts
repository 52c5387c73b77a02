/**
 * The sockets' shared memory: a few large slabs, carved into slots of a few sizes.
 *
 * Every socket needs a header, and every connection two rings, all of them shared with
 * the I/O worker. One `SharedArrayBuffer` each would cost an operating-system mapping
 * per buffer (two for a growable one), and a process has only about 65,000 of those:
 * V8 would die near 16,000 sockets, long before the open-files limit. So the main
 * thread carves them out of slabs of {@linkcode SLAB_BYTES}, each slab holding slots of
 * one size only (a header, or a ring of 16 KiB, 32 KiB, ... 1 MiB), and hands each new
 * slab to the worker once. A freed slot goes back to its size's free list; pages that
 * were never written cost no memory.
 *
 * Only the main thread allocates and frees. A place in shared memory is named by two
 * integers, a slab number and a byte offset, so that a header can say where a ring is.
 *
 * @example
 * ```ts
 * import { SlabAllocator } from "./memory.ts";
 * const memory = new SlabAllocator((index, slab) => console.log("new slab", index, slab.byteLength));
 * const slot = memory.allocate(16 * 1024); // new slab 0 4194304
 * console.log(slot.slab, slot.offset, memory.bytes(slot).length); // 0 0 16384
 * memory.free(slot);
 * ```
 * @module
 */

/** The size of every slab, in bytes. */
export const SLAB_BYTES = 4 * 1024 * 1024;

/** A slot of shared memory: which slab, where in it, how long. */
export interface Slot {
  /** The slab's number. */
  readonly slab: number;
  /** The slot's first byte in the slab. */
  readonly offset: number;
  /** The slot's length in bytes. */
  readonly size: number;
}

/**
 * Hands out slots of shared memory of a few fixed sizes (powers of two, at most
 * {@linkcode SLAB_BYTES}), lowest address first within a slab.
 *
 * @example
 * ```ts
 * import { SlabAllocator } from "./memory.ts";
 * const memory = new SlabAllocator(() => {});
 * const header = memory.allocate(256);
 * const view = new Int32Array(memory.slabs[header.slab], header.offset, 64);
 * Atomics.store(view, 0, 1);
 * ```
 */
export class SlabAllocator {
  /** Every slab made so far, by number. */
  readonly slabs: SharedArrayBuffer[] = [];
  readonly #free = new Map<number, Slot[]>();

  /** @param onNewSlab told of each new slab, before any of its slots is handed out */
  constructor(readonly onNewSlab: (index: number, slab: SharedArrayBuffer) => void) {}

  /**
   * A free slot of exactly `size` bytes.
   *
   * @param size a power of two, at most {@linkcode SLAB_BYTES}
   * @returns the slot; its bytes may hold what its last owner left there
   */
  allocate(size: number): Slot {
    let free = this.#free.get(size);
    if (free === undefined) {
      if (size <= 0 || size > SLAB_BYTES || (size & (size - 1)) !== 0) {
        throw new RangeError(`slot size must be a power of two up to ${SLAB_BYTES}, not ${size}`);
      }
      free = [];
      this.#free.set(size, free);
    }
    const slot = free.pop();
    if (slot !== undefined) return slot;
    const slab = this.slabs.length;
    const buffer = new SharedArrayBuffer(SLAB_BYTES);
    this.slabs.push(buffer);
    this.onNewSlab(slab, buffer);
    // Pushed from the end, so that pop() hands out the lowest offset first.
    for (let offset = SLAB_BYTES - size; offset > 0; offset -= size) {
      free.push({ slab, offset, size });
    }
    return { slab, offset: 0, size };
  }

  /**
   * Takes a slot back, for the next `allocate` of its size.
   *
   * @param slot what `allocate` gave; nobody may use it any more
   */
  free(slot: Slot): void {
    this.#free.get(slot.size)?.push(slot);
  }

  /**
   * The bytes of a slot.
   *
   * @param slot the slot
   * @returns a view of its bytes in its slab
   */
  bytes(slot: Slot): Uint8Array {
    return new Uint8Array(this.slabs[slot.slab], slot.offset, slot.size);
  }
}
