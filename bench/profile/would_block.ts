/**
 * Where a would-block `recv(16)`'s time goes: the call timed in copies of `lib/` (the
 * commit before, this tree, and this tree with one thing changed in each), each in a
 * process of its own, the copies taking turns.
 *
 * The copies come from `git archive`; the changes go in by text replacement, in the copy
 * only, so this fits `lib/socket` as it was when the figures in bench/RESULTS.md were
 * taken, at 991e69d (after a rewrite it says which anchor it could not find: since the
 * split of `socket.ts`, a6f5e55, run it from a checkout of 991e69d). The code under test is
 * never changed.
 *
 * Not part of `deno task bench`. Run: `deno run -A bench/profile/would_block.ts [ROUNDS]`
 * (BEFORE_AFTER_BASE: the commit before, 804ef49 unless told).
 *
 * @module
 */

import { runsTable, treeCopy } from "../trees.ts";

/** One copy: its name, the commit, and the replacements [file in lib/socket, anchor, text]. */
interface Variant {
  name: string;
  commit: string;
  patches: Array<[string, string, string]>;
}

/** The loop each child runs: µs per would-block `recv(16)`, median of 9 rounds of 20,000. */
const CHILD = `
const root = Deno.args[0];
const { socketPair, WouldBlock } = await import(root + "/lib/socket/mod.ts");
const [a, b] = socketPair();
b.setBlocking(false);
const rounds = [];
for (let round = 0; round < 9; round++) {
  const started = performance.now();
  for (let call = 0; call < 20000; call++) {
    try {
      b.recv(16);
      throw new Error("unexpected bytes");
    } catch (error) {
      if (!(error instanceof WouldBlock)) throw error;
    }
  }
  rounds.push((performance.now() - started) * 1000 / 20000);
}
rounds.sort((x, y) => x - y);
console.log(rounds[4]);
a.close();
b.close();
Deno.exit(0);
`;

const RUN_HEADER = "  #run<T>(call: WaitingCall, attempt: Attempt<T>, spinMs?: number): T {";
/** `#run` of this tree without its try/catch (what tracing needs), else the same. */
const RUN_WITHOUT_TRY = `${RUN_HEADER}
    let deadline = Infinity;
    void call;
    for (;;) {
      const seen = currentEvent();
      const result = attempt();
      if (result !== AGAIN) return result;
      const timeout = this.#timeout;
      if (timeout === 0) throw cheapWouldBlock();
      let waitMs: number | undefined;
      if (timeout !== null) {
        if (deadline === Infinity) deadline = performance.now() + timeout * 1000;
        waitMs = deadline - performance.now();
        if (waitMs <= 0) throw new SocketTimeout();
      }
      waitForEvent(seen, waitMs, spinMs);
    }
  }`;

const BASE = Deno.env.get("BEFORE_AFTER_BASE") ?? "804ef49";
const VARIANTS: Variant[] = [
  { name: `the commit before (${BASE})`, commit: BASE, patches: [] },
  { name: "this tree (HEAD)", commit: "HEAD", patches: [] },
  {
    name: "HEAD, #run without its try/catch",
    commit: "HEAD",
    patches: [[
      "socket.ts",
      RUN_HEADER,
      `${RUN_WITHOUT_TRY}\n\n${RUN_HEADER.replace("#run<T>", "#runTraced<T>")}`,
    ]],
  },
  {
    name: "HEAD, #run without its try/catch, and no pending-error check (nothing buffered)",
    commit: "HEAD",
    patches: [[
      "socket.ts",
      RUN_HEADER,
      `${RUN_WITHOUT_TRY}\n\n${RUN_HEADER.replace("#run<T>", "#runTraced<T>")}`,
    ], [
      "socket.ts",
      "    const error = this.getPendingError();\n    if (error) throw error;\n    if (Atomics.load(header, HEADER.BROKEN)",
      "    if (Atomics.load(header, HEADER.BROKEN)",
    ]],
  },
  {
    name: "HEAD, the WouldBlock thrown after the try/catch, not inside it",
    commit: "HEAD",
    patches: [[
      "socket.ts",
      "    let deadline = Infinity; // in timeout mode, set at the first wait\n    try {",
      "    let deadline = Infinity;\n    let wouldBlockNow = false;\n    try {",
    ], [
      "socket.ts",
      "          if (tracing) countWouldBlock();\n          throw cheapWouldBlock();",
      "          if (tracing) countWouldBlock();\n          wouldBlockNow = true;\n          break;",
    ], [
      "socket.ts",
      '      if (traced) traceEnd(call, "socket", { fd: this.#fd, error: String(error) });\n      throw error;\n    }\n  }',
      '      if (traced) traceEnd(call, "socket", { fd: this.#fd, error: String(error) });\n      throw error;\n    }\n    if (wouldBlockNow) throw cheapWouldBlock();\n    throw new Error("unreachable");\n  }',
    ]],
  },
];
async function copyOf(variant: Variant, directory: string): Promise<void> {
  await treeCopy(variant.commit, directory, ["lib"]);
  for (const [file, anchor, replacement] of variant.patches) {
    const path = `${directory}/lib/socket/${file}`;
    const text = await Deno.readTextFile(path);
    if (text.split(anchor).length !== 2) {
      throw new Error(`${variant.name}: anchor not found once in ${file}: ${anchor.slice(0, 60)}`);
    }
    await Deno.writeTextFile(path, text.replace(anchor, replacement));
  }
}

const rounds = Number(Deno.args[0] ?? 7);
const scratch = await Deno.makeTempDir({ prefix: "would-block-" });
const child = `${scratch}/child.ts`;
await Deno.writeTextFile(child, CHILD);
const figures = new Map<string, number[]>();
try {
  for (const [index, variant] of VARIANTS.entries()) await copyOf(variant, `${scratch}/${index}`);
  for (let round = 0; round < rounds; round++) {
    const order = [...VARIANTS.keys()];
    if (round % 2 === 1) order.reverse();
    for (const index of order) {
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--no-check", child, `${scratch}/${index}`],
        cwd: `${scratch}/${index}`,
        stderr: "inherit",
      }).output();
      const micros = Number(new TextDecoder().decode(output.stdout).trim());
      const name = VARIANTS[index].name;
      figures.set(name, [...(figures.get(name) ?? []), micros]);
    }
  }
} finally {
  await Deno.remove(scratch, { recursive: true });
}
console.log(`would-block recv(16), µs per call (${rounds} processes each, alternating)`);
console.log(runsTable("copy", figures, 2).join("\n"));
