/**
 * The control block: one `Int32Array` over a `SharedArrayBuffer` for the whole process,
 * shared by the main thread and the I/O worker. Each mechanism owns a region of it and
 * lays out its own cells there:
 *
 * | region | cells | owner |
 * | --- | --- | --- |
 * | `waits` | the event counter and the stay-awake flags | `waits.ts` |
 * | `link` | the worker's state, the doorbell, why it died | `link.ts` |
 * | `queues` | the queues of changes, senders and requests | `queue.ts` |
 *
 * Each thread attaches the same buffer once (the main thread makes it, the worker gets
 * it as `workerData`); `control` is then the same memory in both.
 *
 * @example
 * ```ts
 * import { attachControl, control, REGION } from "./control.ts";
 * attachControl(new SharedArrayBuffer(1024));
 * Atomics.store(control, REGION.waits, 1);
 * ```
 * @module
 */

/** Where each mechanism's region starts, in 32-bit cells from the control block's start. */
export const REGION = {
  /** The waits' cells (`waits.ts`): 4. */
  waits: 0,
  /** The worker link's cells (`link.ts`): 4, then the text of why it died. */
  link: 4,
  /** The queues (`queue.ts`), after the link's 4 cells and its 512 bytes of text. */
  queues: 8 + 512 / 4,
} as const;

/** The control block, as this thread sees it (empty until `attachControl`). */
export let control: Int32Array = new Int32Array(0);

/**
 * Makes `buffer` this thread's control block.
 *
 * @example
 * ```ts
 * import { attachControl } from "./control.ts";
 * attachControl(new SharedArrayBuffer(1024));
 * ```
 */
export function attachControl(buffer: SharedArrayBuffer): void {
  control = new Int32Array(buffer);
}
