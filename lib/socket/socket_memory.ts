/**
 * A socket's shared memory, from allocation to release: its header (`header.ts`), and
 * its two rings (`ring.ts`) once it is a connection, carved out of the slabs
 * (`memory.ts`, `link.ts`). The worker finds them by the header's place. A closed
 * socket's memory is freed once the worker is done with it (`releaseLater` in
 * `descriptors.ts`).
 *
 * @example
 * ```ts ignore
 * import { SocketMemory } from "./socket_memory.ts";
 * const shared = new SocketMemory();
 * const place = shared.makeRings({ receive: 65536, send: 65536 }); // for the worker
 * shared.freeMemory();
 * ```
 * @module
 */

import { HEADER_BYTES, type HeaderPlace } from "./header.ts";
import { memory } from "./link.ts";
import type { Slot } from "./memory.ts";
import { type BufferLimits, ConnectionRings } from "./ring.ts";

/**
 * One socket's header, and its rings once it has some.
 *
 * @example
 * ```ts ignore
 * const shared = new SocketMemory();
 * Atomics.load(shared.header, HEADER.STATE);
 * ```
 */
export class SocketMemory {
  readonly #slot: Slot;
  /** The header shared with the worker (`header.ts`, `ring.ts`). */
  readonly header: Int32Array;
  /** The connection's two rings (`ring.ts`), once it has some; `null` again once freed. */
  rings: ConnectionRings | null = null;

  /** A zeroed header in a free slot. */
  constructor() {
    this.#slot = memory.allocate(HEADER_BYTES);
    memory.bytes(this.#slot).fill(0); // what the slot's last owner left
    this.header = new Int32Array(
      memory.slabs[this.#slot.slab],
      this.#slot.offset,
      HEADER_BYTES / 4,
    );
  }

  /** Where the header is, for the worker. */
  place(): HeaderPlace {
    return { slab: this.#slot.slab, offset: this.#slot.offset };
  }

  /** Gives a new connection its two rings, within `limits`; returns the header's place. */
  makeRings(limits: BufferLimits): HeaderPlace {
    this.rings = new ConnectionRings(this.header, memory, limits);
    return this.place();
  }

  /** Gives the header and the rings back to the allocator: nobody uses them any more. */
  freeMemory(): void {
    this.rings?.free();
    this.rings = null;
    memory.free(this.#slot);
  }
}
