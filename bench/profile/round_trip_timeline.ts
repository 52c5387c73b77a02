/**
 * Where a one-byte hop's time goes in the socket layer: a timeline of one hop (A sends
 * one byte; B waits with `select`, then `recv`), from stamps taken on both threads.
 *
 * It copies `lib/socket` into a temporary directory, adds `performance.now()` stamps
 * (into a shared `Float64Array`, on a clock both threads share) at each step, runs
 * 4,000 hops there and prints, for each step, the median time since `send()` began. The
 * code under test is never changed: the stamps live in the copy only. The stamps go in by
 * text replacement, so this fits the socket layer as it was when the profile in
 * bench/RESULTS.md was taken; after a rewrite, it says which anchor it could not find.
 *
 * Not part of `deno task bench`. Run: `deno run -A bench/profile/round_trip_timeline.ts [HOPS]`
 *
 * @module
 */

import { ROOT } from "../lib.ts";

const hops = Number(Deno.args[0] ?? 4000);

/** Text replacements: [file, anchor, replacement]. Each anchor must occur exactly once. */
const PATCHES: Array<[string, string, string]> = [
  [
    "socket.ts",
    "const controlBuffer = new SharedArrayBuffer(CTL_BYTES);",
    `const controlBuffer = new SharedArrayBuffer(CTL_BYTES);
/** Profiling stamps, shared with the worker; [63] is the main thread's time origin. */
export const stamps = new Float64Array(new SharedArrayBuffer(8 * 64));
stamps[63] = performance.timeOrigin;
/** Milliseconds on a clock both threads share. */
export function now(): number {
  return performance.timeOrigin - stamps[63] + performance.now();
}`,
  ],
  [
    "socket.ts",
    "const data: KernelData = { control: controlBuffer };",
    "const data = { control: controlBuffer, stamps: stamps.buffer } as KernelData;",
  ],
  [
    "socket.ts",
    "  } finally {\n    Atomics.store(control, CTL_MAIN_WAITING, 0);\n  }\n  checkKernel();\n}",
    `  } finally {
    Atomics.store(control, CTL_MAIN_WAITING, 0);
    if (++stamps[10] === 1) stamps[12] = now();
  }
  checkKernel();
}`,
  ],
  [
    "kernel.ts",
    "const control = new Int32Array((workerData as KernelData).control);",
    `const control = new Int32Array((workerData as KernelData).control);
const stamps = new Float64Array((workerData as unknown as { stamps: SharedArrayBuffer }).stamps);
const now = () => performance.timeOrigin - stamps[63] + performance.now();`,
  ],
  [
    "kernel.ts",
    "      if (Atomics.load(header, H_TX_WRITE) === write && !socket.closing) await woken;\n",
    "      if (Atomics.load(header, H_TX_WRITE) === write && !socket.closing) await woken;\n      stamps[2] = now();\n",
  ],
  [
    "kernel.ts",
    "      const written = await conn.write(ring.subarray(position, position + count));\n",
    `      stamps[3] = now();
      const written = await conn.write(ring.subarray(position, position + count));
      stamps[4] = now();
`,
  ],
  [
    "kernel.ts",
    "    if (Atomics.load(header, H_TX_FILLED) === 1) announce(socket);\n",
    "    if (Atomics.load(header, H_TX_FILLED) === 1) announce(socket);\n    stamps[5] = now();\n",
  ],
  [
    "kernel.ts",
    "      count = await conn.read(ring.subarray(position, position + room));\n",
    "      count = await conn.read(ring.subarray(position, position + room));\n      stamps[6] = now();\n",
  ],
  [
    "kernel.ts",
    "    Atomics.store(header, H_RX_WRITE, (write + count) | 0);\n    announce(socket);\n",
    "    Atomics.store(header, H_RX_WRITE, (write + count) | 0);\n    announce(socket);\n    stamps[7] = now();\n",
  ],
];

/** The hops, run in the instrumented copy. */
const TIMELINE = `
import { select, socketPair } from "./lib/socket/mod.ts";
import { now, stamps } from "./lib/socket/socket.ts";

const median = (values: number[]) => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
};
const [a, b] = socketPair();
const byte = new Uint8Array([1]);
const hops = ${hops};
const names = [
  "main: send() returns (copy into the ring; the send pump called if it waits)",
  "worker: the send pump resumes (woken through the queue of senders)",
  "worker: conn.write starts",
  "worker: conn.write settles",
  "worker: the send pump's announce returns (counter bumped, main notified)",
  "worker: the peer's pending conn.read settles",
  "worker: the receive pump's announce returns",
  "main: first return from Atomics.wait",
  "main: select returns",
  "main: recv returns",
];
const columns: number[][] = names.map(() => []);
let woken = 0;
for (let hop = 0; hop < hops; hop++) {
  for (let index = 0; index < 13; index++) stamps[index] = NaN;
  stamps[10] = 0;
  const started = now();
  a.send(byte);
  const sent = now();
  select([b], [], []);
  const selected = now();
  b.recv(16);
  const received = now();
  if (stamps[10] >= 2) woken++;
  const times = [sent, stamps[2], stamps[3], stamps[4], stamps[5], stamps[6], stamps[7], stamps[12], selected, received];
  times.forEach((time, index) => columns[index].push((time - started) * 1000));
}
console.log("| step | µs since send() began (median) | this step µs |");
console.log("|---|---|---|");
let previous = 0;
names.forEach((name, index) => {
  const at = median(columns[index]);
  console.log("| " + name + " | " + at.toFixed(1) + " | " + (at - previous).toFixed(1) + " |");
  previous = at;
});
console.log("");
console.log(hops + " hops; the main thread woke more than once in " + (100 * woken / hops).toFixed(0) + " % of them.");
a.close();
b.close();
`;

const scratch = await Deno.makeTempDir({ prefix: "socket-profile-" });
try {
  await Deno.mkdir(`${scratch}/lib/socket`, { recursive: true });
  for (const entry of Deno.readDirSync(`${ROOT}/lib/socket`)) {
    await Deno.copyFile(`${ROOT}/lib/socket/${entry.name}`, `${scratch}/lib/socket/${entry.name}`);
  }
  for (const [file, anchor, replacement] of PATCHES) {
    const path = `${scratch}/lib/socket/${file}`;
    const text = await Deno.readTextFile(path);
    if (text.split(anchor).length !== 2) {
      throw new Error(`lib/socket/${file} no longer has this line once: ${anchor.trim()}`);
    }
    await Deno.writeTextFile(path, text.replace(anchor, replacement));
  }
  await Deno.writeTextFile(`${scratch}/timeline.ts`, TIMELINE);
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", `${scratch}/timeline.ts`],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) Deno.exitCode = code;
} finally {
  await Deno.remove(scratch, { recursive: true });
}
