/**
 * Where a blocking connect's time goes: the same 3,000 connects to one local listener
 * (another process, which accepts and keeps them), each kept open with a read pending,
 * done three ways:
 *
 * - raw Deno on the main thread (`await Deno.connect`);
 * - a bare `node:worker_threads` worker, the main thread blocked in `Atomics.wait` until
 *   it answers (bench/profile/connect_worker.ts): the floor for any design that does
 *   its I/O in a worker, as the socket layer does;
 * - the socket layer's blocking `connect`.
 *
 * Not part of `deno task bench`. Run: `deno run -A bench/profile/connect_in_worker.ts`
 *
 * @module
 */

import { Worker } from "node:worker_threads";
import { Socket } from "../../lib/socket/mod.ts";

const COUNT = 3000;
const server = new Deno.Command(Deno.execPath(), {
  args: [
    "eval",
    "const l = Deno.listen({ hostname: '127.0.0.1', port: 0 }); console.log(l.addr.port);" +
    " const kept = []; for await (const c of l) kept.push(c);",
  ],
  stdout: "piped",
}).spawn();
const reader = server.stdout.getReader();
const port = Number(new TextDecoder().decode((await reader.read()).value).trim());
const perConnect = (started: number) => ((performance.now() - started) / COUNT * 1000).toFixed(1);

let started = performance.now();
const raw: Deno.Conn[] = [];
for (let i = 0; i < COUNT; i++) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.read(new Uint8Array(16)).catch(() => {});
  raw.push(conn);
}
console.log(`raw Deno, main thread: ${perConnect(started)} µs a connect`);
for (const conn of raw) conn.close();

const cells = new Int32Array(new SharedArrayBuffer(8));
const stamps = new Float64Array(new SharedArrayBuffer(16));
const worker = new Worker(new URL("./connect_worker.ts", import.meta.url), {
  workerData: { cells: cells.buffer, stamps: stamps.buffer },
  env: {},
});
worker.unref();
started = performance.now();
for (let i = 0; i < COUNT; i++) {
  const seen = Atomics.load(cells, 0);
  worker.postMessage(port);
  Atomics.wait(cells, 0, seen);
}
const inside = (stamps[0] / stamps[1] * 1000).toFixed(1);
console.log(`bare worker: ${perConnect(started)} µs a connect (Deno.connect inside: ${inside} µs)`);

started = performance.now();
const ours: Socket[] = [];
for (let i = 0; i < COUNT; i++) {
  const socket = new Socket();
  socket.connect(["127.0.0.1", port]);
  ours.push(socket);
}
console.log(`lib/socket, blocking connect: ${perConnect(started)} µs a connect`);
for (const socket of ours) socket.close();
server.kill();
await server.status;
