/**
 * The reactor's timers, the commit before against this tree, with more processes than
 * bench/before_after_bench.ts gives them: bench/fixtures/reactor_timers.ts run `ROUNDS`
 * times on each side's copy of `lib/` (from `git archive`), the sides taking turns.
 * For a figure that the bench's best runs put on either side of 1.10x from run to run.
 * A third copy is this tree's with one change, in the copy only: `DelayedCall._trace`
 * (what the trace knows of a call, added with the trace hooks) declared rather than an
 * own field of every call, so that a call is the size it was before the hooks.
 *
 * Not part of `deno task bench`. Run: `deno run -A bench/profile/timers_ab.ts [ROUNDS]`
 * (BEFORE_AFTER_BASE: the commit before, 804ef49 unless told).
 *
 * @module
 */

import { median, ROOT } from "../lib.ts";
import { denoRun, treeCopy } from "../trees.ts";

const BASE = Deno.env.get("BEFORE_AFTER_BASE") ?? "804ef49";
const rounds = Number(Deno.args[0] ?? 15);
const FIXTURE = `${ROOT}/bench/fixtures/reactor_timers.ts`;
const FIGURES = ["cancel", "fire", "turn"] as const;

const scratch = await Deno.makeTempDir({ prefix: "timers-ab-" });
const sides = [
  [`before (${BASE})`, BASE],
  ["after (HEAD)", "HEAD"],
  ["after, DelayedCall without its own _trace field", "HEAD"],
] as const;
/** The field, and the same declared only (no field on each call). */
const TRACE_FIELD = "  _trace: TracedCall | undefined;\n";
const figures = new Map<string, Record<(typeof FIGURES)[number], number[]>>();
try {
  for (const [index, [name, commit]] of sides.entries()) {
    await treeCopy(commit, `${scratch}/${index}`, ["lib"]);
    if (index === 2) {
      const path = `${scratch}/${index}/lib/reactor/delayed.ts`;
      const text = await Deno.readTextFile(path);
      if (text.split(TRACE_FIELD).length !== 2) throw new Error("delayed.ts: _trace moved");
      await Deno.writeTextFile(path, text.replace(TRACE_FIELD, `  declare${TRACE_FIELD.slice(1)}`));
    }
    figures.set(name, { cancel: [], fire: [], turn: [] });
  }
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [0, 1, 2] : [2, 1, 0];
    for (const index of order) {
      const root = `${scratch}/${index}`;
      const output = await denoRun(root, ["-A", FIXTURE, root]);
      const measured = JSON.parse(output.at(-1) ?? "{}");
      const side = figures.get(sides[index][0]);
      for (const figure of FIGURES) side?.[figure].push(measured[figure]);
    }
  }
} finally {
  await Deno.remove(scratch, { recursive: true });
}
console.log(`reactor timers, µs per call or turn (${rounds} processes a side, alternating)`);
console.log("| figure | side | median | best |");
console.log("|---|---|---|---|");
for (const figure of FIGURES) {
  for (const [name, values] of figures) {
    console.log(
      `| ${figure} | ${name} | ${median(values[figure]).toFixed(3)} | ${
        Math.min(...values[figure]).toFixed(3)
      } |`,
    );
  }
}
