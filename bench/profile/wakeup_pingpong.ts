/**
 * The bare cost of the two hand-offs between threads that every hop of the socket layer
 * makes, without any socket: the main thread wakes a worker that waits with
 * `Atomics.waitAsync` (as the send pump does), and the worker wakes the main thread,
 * blocked in `Atomics.wait` (as `select` is). 5,000 ping-pongs; the median of each step.
 *
 * Not part of `deno task bench`. Run: `deno run -A bench/profile/wakeup_pingpong.ts [SPIN-µs]`
 * (with SPIN-µs, the main thread first spins that long on the cell before it sleeps).
 *
 * @module
 */

import { Worker } from "node:worker_threads";
import { median } from "../lib.ts";

const spinMicros = Number(Deno.args[0] ?? 0);
const cells = new Int32Array(new SharedArrayBuffer(8));
const stamps = new Float64Array(new SharedArrayBuffer(8 * 16));
stamps[15] = performance.timeOrigin;
const now = () => performance.timeOrigin - stamps[15] + performance.now();
const worker = new Worker(new URL("./wakeup_worker.ts", import.meta.url), {
  workerData: { cells: cells.buffer, stamps: stamps.buffer },
});
await new Promise((resolve) => worker.once("message", resolve));
const columns: number[][] = [[], [], [], [], []];
for (let round = 0; round < 5000; round++) {
  const seen = Atomics.load(cells, 1);
  const started = now();
  Atomics.add(cells, 0, 1);
  Atomics.notify(cells, 0);
  const notified = now();
  const until = performance.now() + spinMicros / 1000;
  while (Atomics.load(cells, 1) === seen && performance.now() < until) {
    // Spin: the answer may come before a sleep would even begin.
  }
  Atomics.wait(cells, 1, seen);
  const woke = now();
  columns[0].push(notified - started);
  columns[1].push(stamps[1] - notified);
  columns[2].push(stamps[2] - stamps[1]);
  columns[3].push(woke - stamps[2]);
  columns[4].push(woke - started);
}
const names = [
  "main: Atomics.notify of a waitAsync waiter (the call)",
  "worker: its waitAsync continuation runs, after that call",
  "worker: Atomics.notify of the main thread (the call)",
  "main: back from Atomics.wait, after that call",
  "the whole ping-pong",
];
console.log(`| step${spinMicros ? ` (main spins ${spinMicros} µs first)` : ""} | µs (median) |`);
console.log("|---|---|");
names.forEach((name, index) =>
  console.log(`| ${name} | ${(median(columns[index]) * 1000).toFixed(1)} |`)
);
worker.terminate();
