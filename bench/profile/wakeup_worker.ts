/**
 * The worker of bench/profile/wakeup_pingpong.ts: waits with `Atomics.waitAsync` on cell
 * 0, stamps when it resumes, then bumps cell 1 and notifies the main thread.
 *
 * @module
 */

import { parentPort, workerData } from "node:worker_threads";

const { cells: cellBuffer, stamps: stampBuffer } = workerData as {
  cells: SharedArrayBuffer;
  stamps: SharedArrayBuffer;
};
const cells = new Int32Array(cellBuffer);
const stamps = new Float64Array(stampBuffer);
const now = () => performance.timeOrigin - stamps[15] + performance.now();

async function answer(): Promise<void> {
  let seen = 0;
  for (;;) {
    const waiting = Atomics.waitAsync(cells, 0, seen);
    if (waiting.async) await waiting.value;
    stamps[1] = now();
    seen = Atomics.load(cells, 0);
    Atomics.add(cells, 1, 1);
    Atomics.notify(cells, 1);
    stamps[2] = now();
  }
}

// A waitAsync alone does not keep a worker's event loop alive: a message listener does.
parentPort?.on("message", () => {});
answer();
parentPort?.postMessage("ready");
