/**
 * The queues in the control block: one type, {@linkcode SharedQueue}, used by both
 * threads, each queue with one producer thread and one consumer thread.
 *
 * - {@linkcode CHANGES}: the worker queues the id of each socket it changed, once until
 *   the main thread takes it (`HEADER.QUEUED`), so that `Poll` looks only at those.
 *   When it is full the worker sets its overflow flag instead: everything may have
 *   changed.
 * - {@linkcode SENDERS}: the main thread queues the id of each socket whose send pump
 *   waits for the bytes it just queued (`SEND_PUMP.WAITING`); the worker wakes them.
 * - {@linkcode REQUESTS}: the main thread queues connects, spares and closes
 *   (`requests.ts`); the worker serves them in order.
 *
 * A queue's indices only grow (modulo 2^32); its slots are a power of two. The producer
 * writes an entry's integers, then the write index; the consumer reads the write index,
 * then the entries, then stores its read index.
 *
 * @example
 * ```ts
 * import { queueLayout, SharedQueue } from "./queue.ts";
 * const layout = queueLayout(0, 4, 2);
 * const cells = new Int32Array(new SharedArrayBuffer(layout.end * 4));
 * const queue = new SharedQueue(cells, layout);
 * queue.push(7, 8);
 * queue.consume((at) => console.log(cells[at], cells[at + 1])); // 7 8
 * ```
 * @module
 */

import { control, REGION } from "./control.ts";

/** Where a queue's cells are in the control block. */
export interface QueueLayout {
  /** The write index's cell. */
  readonly write: number;
  /** The read index's cell. */
  readonly read: number;
  /** The overflow flag's cell, for a producer that drops entries when full. */
  readonly overflow: number;
  /** The first slot's first cell. */
  readonly start: number;
  /** How many entries it holds (a power of two). */
  readonly slots: number;
  /** Integers per entry. */
  readonly ints: number;
  /** The first cell after the queue. */
  readonly end: number;
}

/**
 * The layout of a queue whose cells start at `base`.
 *
 * @example
 * ```ts
 * import { queueLayout } from "./queue.ts";
 * console.log(queueLayout(0, 8, 1).end); // 12
 * ```
 */
export function queueLayout(base: number, slots: number, ints: number): QueueLayout {
  const start = base + 4;
  return {
    write: base,
    read: base + 1,
    overflow: base + 2,
    start,
    slots,
    ints,
    end: start + slots * ints,
  };
}

/** The queue of changed sockets' ids, from the worker to `Poll`. */
export const CHANGES: QueueLayout = queueLayout(REGION.queues, 4096, 1);
/**
 * The queue of sockets whose send pump the worker should wake. A socket is queued at
 * most once at a time, so it holds as many as a process is likely to have open; past
 * that, a message wakes them all.
 */
export const SENDERS: QueueLayout = queueLayout(CHANGES.end, 65536, 1);
/** The queue of requests: what, the socket's id, its header's slab and offset, a listener's id. */
export const REQUESTS: QueueLayout = queueLayout(SENDERS.end, 8192, 5);
/** The first cell after the queues: the end of the control block. */
export const QUEUES_END: number = REQUESTS.end;

/**
 * One queue, as either thread sees it: the producer pushes, the consumer consumes.
 *
 * @example
 * ```ts ignore
 * const senders = new SharedQueue(control, SENDERS);
 * if (!senders.push(id)) wakeEverySender(); // full
 * ```
 */
export class SharedQueue {
  /** The consumer's read index, kept here between calls. */
  #read: number;

  constructor(readonly cells: Int32Array, readonly layout: QueueLayout) {
    this.#read = Atomics.load(cells, layout.read);
  }

  /** Entries queued and not yet consumed, as the producer sees it. */
  size(): number {
    return (Atomics.load(this.cells, this.layout.write) -
      Atomics.load(this.cells, this.layout.read)) |
      0;
  }

  /** Producer: queues one entry of the layout's integers; `false` when full. */
  push(a: number, b = 0, c = 0, d = 0, e = 0): boolean {
    const { cells, layout } = this;
    const write = Atomics.load(cells, layout.write);
    if (((write - Atomics.load(cells, layout.read)) | 0) >= layout.slots) return false;
    const at = layout.start + (write & (layout.slots - 1)) * layout.ints;
    Atomics.store(cells, at, a);
    if (layout.ints > 1) {
      Atomics.store(cells, at + 1, b);
      Atomics.store(cells, at + 2, c);
      Atomics.store(cells, at + 3, d);
      Atomics.store(cells, at + 4, e);
    }
    Atomics.store(cells, layout.write, (write + 1) | 0);
    return true;
  }

  /** Consumer: whether entries wait. */
  hasEntries(): boolean {
    return Atomics.load(this.cells, this.layout.write) !== this.#read;
  }

  /** Consumer: the read index, for `Atomics.waitAsync` on the write index. */
  readIndex(): number {
    return this.#read;
  }

  /** Consumer: the first cell of the next entry (valid while `hasEntries()`). */
  next(): number {
    return this.layout.start + (this.#read & (this.layout.slots - 1)) * this.layout.ints;
  }

  /**
   * Consumer: hands `take` the first cell of each waiting entry, in order, and frees
   * each; stops early, before freeing an entry, when `take` returns `false`.
   *
   * @returns whether it consumed every entry
   */
  consume(take: (at: number) => boolean | void): boolean {
    const { cells, layout } = this;
    const write = Atomics.load(cells, layout.write);
    for (; this.#read !== write; this.#read = (this.#read + 1) | 0) {
      if (take(this.next()) === false) return false;
      Atomics.store(cells, layout.read, (this.#read + 1) | 0);
    }
    return true;
  }
}

/**
 * This thread's view of the three queues of the control block (attached first).
 *
 * @example
 * ```ts ignore
 * const { requests } = queues();
 * ```
 */
export function queues(): { changes: SharedQueue; senders: SharedQueue; requests: SharedQueue } {
  return {
    changes: new SharedQueue(control, CHANGES),
    senders: new SharedQueue(control, SENDERS),
    requests: new SharedQueue(control, REQUESTS),
  };
}
