/**
 * The worker half of bench/profile/connect_in_worker.ts: a bare `node:worker_threads`
 * worker that, for each message (a port), connects with `Deno.connect`, starts a read on
 * the connection (as the socket layer's receive pump does), and wakes the main thread.
 * It keeps the time `Deno.connect` took, in `stamps[0]` (sum, ms) and `stamps[1]`
 * (count).
 *
 * @module
 */

import { parentPort, workerData } from "node:worker_threads";

const cells = new Int32Array(workerData.cells as SharedArrayBuffer);
const stamps = new Float64Array(workerData.stamps as SharedArrayBuffer);
const connections: Deno.Conn[] = [];
parentPort?.on("message", async (port: number) => {
  const started = performance.now();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  stamps[0] += performance.now() - started;
  stamps[1] += 1;
  connections.push(conn);
  conn.read(new Uint8Array(16)).catch(() => {}); // ended when the process ends
  Atomics.add(cells, 0, 1);
  Atomics.notify(cells, 0);
});
