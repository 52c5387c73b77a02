/**
 * The worker link: starting the I/O worker, knowing when it has died, and posting it
 * messages. Both ends: the main thread starts the worker and posts; the worker says it
 * is ready, answers the doorbell, and records its own death.
 *
 * The worker is a `node:worker_threads` worker, unref'd: it never keeps the program
 * alive by itself. It says in the control block when it is ready, and, should anything
 * escape it, that it died and why, so that no call of the main thread waits forever on
 * a dead worker. A message alone reaches a sleeping worker late; so each message rings
 * the doorbell (a cell bumped and notified), on which the worker always waits.
 *
 * @example
 * ```ts ignore
 * import { postToKernel, requireKernel } from "./link.ts";
 * requireKernel(); // starts the worker if needed; throws if it has died
 * postToKernel({ op: "listen", id: 1, backlog: 5 });
 * ```
 * @module
 */

import { Worker } from "node:worker_threads";
import { attachControl, control, REGION } from "./control.ts";
import { SocketError } from "./errors.ts";
import { SlabAllocator } from "./memory.ts";
import { QUEUES_END } from "./queue.ts";
import type { MessageRequest } from "./requests.ts";
import { announceEvent } from "./waits.ts";

/** The link's cells in the control block. */
export const LINK = {
  /** The worker's state: one of the {@linkcode KERNEL} values. */
  STATE: REGION.link,
  /** The doorbell: rung (bumped, then notified) by the main thread after each message. */
  DOORBELL: REGION.link + 1,
  /** The length in bytes of the text saying why the worker died. */
  DEATH_LENGTH: REGION.link + 2,
  /** The byte offset of that text; it has 512 bytes, up to the queues. */
  DEATH_OFFSET: (REGION.link + 4) * 4,
} as const;

const DEATH_BYTES = REGION.queues * 4 - LINK.DEATH_OFFSET;

/** The worker's states. */
export const KERNEL = {
  /** The worker is loading. */
  STARTING: 0,
  /** The worker serves requests. */
  READY: 1,
  /** The worker is gone: every wait fails from now on. */
  DEAD: 2,
} as const;

/** What the main thread hands the worker when it starts it. */
export interface KernelData {
  /** The control block (`control.ts`). */
  control: SharedArrayBuffer;
}

// ---------------------------------------------------------------------------
// Both ends.

/**
 * Marks the worker dead in the control block, with why, and wakes every waiter: their
 * calls then fail with that reason. The worker does it when something escapes it; the
 * main thread when it learns of a worker that could not start or exited.
 *
 * @example
 * ```ts ignore
 * recordDeath(new Error("boom"));
 * ```
 */
export function recordDeath(reason: unknown): void {
  if (Atomics.load(control, LINK.STATE) === KERNEL.DEAD) return;
  const text = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
  const encoded = new TextEncoder().encode(text).subarray(0, DEATH_BYTES);
  new Uint8Array(control.buffer).set(encoded, LINK.DEATH_OFFSET);
  Atomics.store(control, LINK.DEATH_LENGTH, encoded.length);
  Atomics.store(control, LINK.STATE, KERNEL.DEAD);
  announceEvent();
}

/**
 * Whether the worker has died.
 *
 * @example
 * ```ts ignore
 * if (kernelDead()) return;
 * ```
 */
export function kernelDead(): boolean {
  return Atomics.load(control, LINK.STATE) === KERNEL.DEAD;
}

// ---------------------------------------------------------------------------
// The main thread's end.

/** The I/O worker, started by the first socket that needs it, and kept until the end. */
let kernel: Worker | null = null;

/** Where the worker's code is. */
export const KERNEL_URL: URL = new URL("./kernel.ts", import.meta.url);

/** How long the worker may take to start, in milliseconds, before we give up on it. */
const KERNEL_START_MS = 10_000;

/**
 * Main thread: makes the control block. Called once, by `socket.ts`, as it loads.
 *
 * @example
 * ```ts ignore
 * makeControl();
 * ```
 */
export function makeControl(): void {
  attachControl(new SharedArrayBuffer(QUEUES_END * 4));
}

/**
 * The slabs that headers and rings are carved out of (main thread); each new one goes
 * to the worker as a message, before any of its slots is used.
 */
export const memory: SlabAllocator = new SlabAllocator((index, buffer) => {
  if (kernel) postToKernel({ op: "slab", index, buffer });
});

/**
 * Main thread: starts the I/O worker if none runs yet, and fails if it cannot start or
 * has died. `onStart` runs once the worker is made (to flush sent bytes at the end).
 *
 * @example
 * ```ts ignore
 * requireKernel();
 * ```
 */
export function requireKernel(onStart?: () => void): void {
  if (kernel) {
    checkKernel();
    return;
  }
  const url = KERNEL_URL;
  const data: KernelData = { control: control.buffer as SharedArrayBuffer };
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
  kernel.on("error", (error: unknown) => recordDeath(error));
  kernel.on("exit", () => recordDeath("the worker exited"));
  onStart?.();
  // The worker says when it is ready. Messages posted before would wait for it anyway;
  // this wait is what tells a worker that could not load from one that is slow.
  Atomics.wait(control, LINK.STATE, KERNEL.STARTING, KERNEL_START_MS);
  if (Atomics.load(control, LINK.STATE) === KERNEL.STARTING) {
    recordDeath(`it did not start within ${KERNEL_START_MS / 1000} s`);
  }
  checkKernel();
}

/**
 * Main thread, as the program loads: starts the worker now (`onStart` as for
 * {@linkcode requireKernel}), if its code may be read. Starting it blocks the thread for
 * a while (bench/RESULTS.md): better while the program loads than in its first connect,
 * where it would delay the program's timers and show in its timings. Without read
 * access it waits: the first socket that needs the worker then says which flag is
 * missing (or Deno asks for it).
 *
 * @example
 * ```ts ignore
 * startKernelEarly();
 * ```
 */
export function startKernelEarly(onStart?: () => void): void {
  if (Deno.permissions.querySync({ name: "read", path: KERNEL_URL }).state !== "granted") return;
  try {
    requireKernel(onStart);
  } catch {
    // The first socket that needs the worker will say why it could not start.
  }
}

/**
 * Main thread: throws if the worker has died: nothing it was asked will ever be
 * answered.
 *
 * @example
 * ```ts ignore
 * checkKernel();
 * ```
 */
export function checkKernel(): void {
  if (Atomics.load(control, LINK.STATE) !== KERNEL.DEAD) return;
  const length = Atomics.load(control, LINK.DEATH_LENGTH);
  const start = LINK.DEATH_OFFSET;
  const reason = new TextDecoder().decode(
    new Uint8Array(control.buffer).slice(start, start + length),
  );
  throw new SocketError("EIO", `The sockets' I/O worker died${reason ? ` (${reason})` : ""}`);
}

/**
 * Main thread: posts a message to the worker, and rings the doorbell so that a
 * sleeping worker wakes for it at once.
 *
 * @example
 * ```ts ignore
 * postToKernel({ op: "wake-senders" });
 * ```
 */
export function postToKernel(message: MessageRequest): void {
  requireKernel();
  kernel?.postMessage(message);
  Atomics.add(control, LINK.DOORBELL, 1);
  Atomics.notify(control, LINK.DOORBELL);
}

// ---------------------------------------------------------------------------
// The worker's end.

/**
 * Worker: says it is ready, and stays waiting on the doorbell for good, so that the
 * main thread's notify after a message wakes this thread at once; the message is then
 * read by the event loop, woken.
 *
 * @example
 * ```ts ignore
 * kernelReady();
 * ```
 */
export function kernelReady(): void {
  answerDoorbell();
  Atomics.store(control, LINK.STATE, KERNEL.READY);
  Atomics.notify(control, LINK.STATE);
}

async function answerDoorbell(): Promise<void> {
  for (;;) {
    const waiting = Atomics.waitAsync(control, LINK.DOORBELL, Atomics.load(control, LINK.DOORBELL));
    if (waiting.async) await waiting.value;
    else await Promise.resolve();
  }
}
