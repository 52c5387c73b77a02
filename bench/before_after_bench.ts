/**
 * This tree against the commit before (BASE), A/B, printed as a Markdown section: do the
 * socket layer's and the reactor's figures hold after a change?
 *
 * Both sides are copies made with `git archive` (BASE, and HEAD), each whole tree (its
 * lib/ and its lessons) in a directory of its own, loaded the same way: each measurement
 * runs in a process of its own, started in that side's root, the two sides alternating
 * (before first in even runs, after first in odd ones), `RUNS` times.
 *
 * - the socket layer (bench/fixtures/before_after.ts `socket`): a one-byte round trip
 *   on a connected pair, a blocking connect + accept, a would-block `recv(16)`;
 * - a 256 MiB download: each side's own `blocking-server/slowpoetry.ts --delay 0
 *   --num-bytes 65536` serving a 256 MiB poem, fetched by that side's
 *   `blocking-client/get-poetry.ts` and `async-client/get-poetry.ts`; the time each
 *   client reports (`Got 1 poems in ...`), every byte counted;
 * - the reactor's timers (bench/fixtures/reactor_timers.ts): `callLater` then cancel,
 *   `callLater(0)` fired, one idle turn of the loop;
 * - an idle reactor's CPU (bench/fixtures/before_after.ts `idle`): a select reactor
 *   watching a few sockets that stay quiet, for 2 s.
 *
 * Goals: on the best run of each side (the least disturbed, on a shared machine), every
 * figure of this tree within 1.10x of BASE's; an idle reactor under 1 % of a core on both.
 *
 * The after side is HEAD, as committed: commit a change before measuring it.
 *
 * Environment: BEFORE_AFTER_BASE (default 804ef49, the commit before the session that
 * reorganised lib/socket and added the trace hooks), BEFORE_AFTER_RUNS (default 9: about 2 minutes).
 *
 * Run: `deno run -A bench/before_after_bench.ts` (`deno task bench before_after` runs it
 * among the others).
 *
 * @module
 */

import { fixed, goalLine, makeBigPoem, median, ROOT, sectionOpening } from "./lib.ts";
import {
  denoRun,
  downloadSeconds,
  git,
  loadAverage,
  type PoemServer,
  startPoemServer,
  treeCopy,
} from "./trees.ts";

/** The commit compared against. */
const BASE = Deno.env.get("BEFORE_AFTER_BASE") ?? "804ef49";
/** Runs of each side. */
const RUNS = Number(Deno.env.get("BEFORE_AFTER_RUNS") ?? "9");
const POEM_MIB = 256;
const IDLE_SECONDS = 2;
const IDLE_READERS = 4;
const FIXTURE = `${ROOT}/bench/fixtures/before_after.ts`;
const TIMERS_FIXTURE = `${ROOT}/bench/fixtures/reactor_timers.ts`;

if (!(Number.isInteger(RUNS) && RUNS > 0)) {
  console.error(`BEFORE_AFTER_RUNS must be a positive whole number, not ${RUNS}`);
  Deno.exit(2);
}

const lines: string[] = [];
const say = (line = "") => lines.push(line);

/** The figures measured, in the table's order: what, unit, decimals. */
const FIGURES = {
  roundTrip: ["one-byte round trip on a connected pair (send, select, recv; and back)", "µs", 1],
  connect: ["blocking connect + accept", "µs", 1],
  wouldBlock: ["`recv(16)` that would block (throws `WouldBlock`)", "µs", 2],
  blockingDownload: [`${POEM_MIB} MiB download, blocking-client/get-poetry.ts`, "s", 3],
  asyncDownload: [`${POEM_MIB} MiB download, async-client/get-poetry.ts`, "s", 3],
  cancel: ["`callLater`, then cancel (per call)", "µs", 3],
  fire: ["`callLater(0)`, all fired (per call)", "µs", 3],
  turn: ["one idle turn of the loop", "µs", 3],
  idleCpu: [`idle select reactor, ${IDLE_READERS} quiet sockets, ${IDLE_SECONDS} s`, "% CPU", 2],
} as const;
type Figure = keyof typeof FIGURES;
type Side = "before" | "after";

/** A fixture's one JSON line (its last line of output), run with `-A` in `root`. */
async function fixtureFigures(root: string, args: string[]): Promise<Record<string, number>> {
  const output = await denoRun(root, ["-A", ...args]);
  return JSON.parse(output.at(-1) ?? "{}");
}

// Measuring ------------------------------------------------------------------------------------

let baseCommit: string;
let headCommit: string;
try {
  baseCommit = await git("rev-parse", "--short", "--verify", `${BASE}^{commit}`);
  headCommit = await git("rev-parse", "--short", "HEAD");
} catch {
  console.error(`before_after_bench: no such commit here: ${BASE} (BEFORE_AFTER_BASE)`);
  Deno.exit(2);
}
const scratch = await Deno.makeTempDir({ prefix: "before-after-" });
const roots: Record<Side, string> = { before: `${scratch}/before`, after: `${scratch}/after` };
const results = {} as Record<Figure, Record<Side, number[]>>;
for (const figure of Object.keys(FIGURES) as Figure[]) results[figure] = { before: [], after: [] };
const loadAtStart = loadAverage();
const started = performance.now();
const poem = await makeBigPoem(POEM_MIB);
const servers: Partial<Record<Side, PoemServer>> = {};
try {
  await treeCopy(baseCommit, roots.before);
  await treeCopy(headCommit, roots.after);
  for (const side of ["before", "after"] as const) {
    servers[side] = await startPoemServer(roots[side], poem);
  }

  for (let run = 0; run < RUNS; run++) {
    const sides: Side[] = run % 2 === 0 ? ["before", "after"] : ["after", "before"];
    const each = async (measure: (side: Side, root: string) => Promise<void>) => {
      for (const side of sides) await measure(side, roots[side]);
    };
    await each(async (side, root) => {
      const figures = await fixtureFigures(root, [FIXTURE, root, "socket"]);
      for (const figure of ["roundTrip", "connect", "wouldBlock"] as const) {
        results[figure][side].push(figures[figure]);
      }
    });
    await each(async (side, root) => {
      const port = servers[side]?.port ?? 0;
      results.blockingDownload[side].push(
        await downloadSeconds(root, "blocking-client/get-poetry.ts", port, POEM_MIB),
      );
    });
    await each(async (side, root) => {
      const port = servers[side]?.port ?? 0;
      results.asyncDownload[side].push(
        await downloadSeconds(root, "async-client/get-poetry.ts", port, POEM_MIB),
      );
    });
    await each(async (side, root) => {
      const figures = await fixtureFigures(root, [TIMERS_FIXTURE, root]);
      for (const figure of ["cancel", "fire", "turn"] as const) {
        results[figure][side].push(figures[figure]);
      }
    });
    await each(async (side, root) => {
      const figures = await fixtureFigures(root, [
        FIXTURE,
        root,
        "idle",
        String(IDLE_SECONDS),
        String(IDLE_READERS),
      ]);
      results.idleCpu[side].push(figures.cpuPercent);
    });
    console.error(`before_after_bench: run ${run + 1} of ${RUNS} done`);
  }
} finally {
  await Promise.all(Object.values(servers).map((server) => server?.stop()));
  await Deno.remove(poem);
  await Deno.remove(scratch, { recursive: true });
}
const minutes = (performance.now() - started) / 60_000;

// The section ----------------------------------------------------------------------------------

const best = (values: number[]) => Math.min(...values);
const spread = (values: number[], decimals: number) =>
  `${fixed(median(values), decimals)} (${fixed(best(values), decimals)}-${
    fixed(Math.max(...values), decimals)
  })`;

lines.push(...sectionOpening(`This tree against ${BASE}, the commit before: A/B`, import.meta.url));
say(`Before: ${baseCommit} (\`BEFORE_AFTER_BASE\`); after: ${headCommit} (HEAD). Each side is a`);
say("copy of its whole tree from `git archive` (its lib/ and its lessons); every measurement");
say("runs in a process of its own started in that side's copy, the sides alternating (before");
say(`first in even runs, after first in odd ones), ${RUNS} runs each. In each process:`);
say();
say("- round trip: A sends one byte, B waits in `select([B])`, then `recv(16)`; and back;");
say("  median of 2,000. Connect + accept: a new socket's blocking `connect`, then the");
say("  listener's `accept`, median of 300 (kept open). Would-block `recv(16)`: µs per call,");
say("  median of 5 rounds of 20,000 (bench/fixtures/before_after.ts `socket`).");
say(`- the ${POEM_MIB} MiB download: each side's \`blocking-server/slowpoetry.ts --delay 0`);
say("  --num-bytes 65536` (one per side, running throughout) and that side's client; the");
say("  client's own reported time, every byte counted. These compare whole programs (a");
say("  side's server and its client); bench/profile/download_cross.ts pairs them crosswise to");
say("  tell the server, the socket layer and the client's own work apart.");
say("- timers: bench/fixtures/reactor_timers.ts (select reactor, 100,000 calls; 20,000 turns;");
say("  median of 5).");
say(`- idle CPU: a select reactor watching ${IDLE_READERS} connected sockets that stay quiet,`);
say(`  ${IDLE_SECONDS} s; the CPU of the whole process (every thread) meanwhile, in % of a core`);
say("  (bench/fixtures/before_after.ts `idle`).");
say();
say(
  `Load average (1 min) at the start: ${fixed(loadAtStart, 2)}, at the end: ${
    fixed(loadAverage(), 2)
  } (${navigator.hardwareConcurrency} cores); the run took ${fixed(minutes, 1)} min.`,
);
say();
say(
  "| what | before: median (min-max) | after: median (min-max) | after / before, medians | " +
    "after / before, best runs |",
);
say("|---|---|---|---|---|");
for (const [figure, [what, unit, decimals]] of Object.entries(FIGURES)) {
  const { before, after } = results[figure as Figure];
  say(
    `| ${what}, ${unit} | ${spread(before, decimals)} | ${spread(after, decimals)} | ${
      fixed(median(after) / median(before), 2)
    }x | ${fixed(best(after) / best(before), 2)}x |`,
  );
}
say();
say("On a shared machine either side's spread is wider than most differences: the goals");
say("compare the best run of each side, the least disturbed.");
say();
for (const [figure, [what]] of Object.entries(FIGURES)) {
  if (figure === "idleCpu") continue;
  const { before, after } = results[figure as Figure];
  const ratio = best(after) / best(before);
  say(goalLine(
    `${what.replaceAll("`", "")} within 1.10x of ${BASE}'s (best runs)`,
    `${fixed(ratio, 2)}x`,
    ratio <= 1.1,
  ));
  say();
}
const idleBefore = median(results.idleCpu.before);
const idleAfter = median(results.idleCpu.after);
say(goalLine(
  "an idle reactor under 1 % of a core, before and after (medians)",
  `before ${fixed(idleBefore, 2)} %, after ${fixed(idleAfter, 2)} %`,
  idleBefore < 1 && idleAfter < 1,
));
console.log(lines.join("\n"));
