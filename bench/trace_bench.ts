/**
 * The trace's cost, printed as a Markdown section:
 *
 * 1. One traced event: `traceInstant` with tracing on (kept, then written as
 *    JSON in batches), and a traced `callLater` that fires (its schedule event
 *    with the stack read for its label, and its callback event).
 * 2. The article's runs traced and untraced: the reactor client and the broken
 *    client against the article's servers (delays scaled by `SCALE`), the time
 *    each client reports, alternating traced and untraced.
 *
 * Tracing off, A/B against the commit before the hooks (the timers, the round trip, the
 * downloads), is bench/before_after_bench.ts's: measured once, there.
 *
 * Run: `deno run -A bench/trace_bench.ts` (`deno task bench trace` puts it in
 * bench/RESULTS.md).
 *
 * @module
 */

import { fixed, goalLine, median, reportedSeconds, ROOT, sectionOpening } from "./lib.ts";
import { articleServers, startServers } from "../tools/process.ts";
import { MAIN_LANE, startTracing, stopTracing, traceInstant } from "../lib/trace/mod.ts";
import { runTraced } from "../tools/trace/run.ts";
import { fireAllUs, type TimedReactor } from "./timers.ts";

const lines: string[] = [];
const say = (line = "") => lines.push(line);
const RUNS = 9;

type ReactorClass = new () => TimedReactor;

// 1. One traced event ----------------------------------------------------------------------

function tracedInstants(count: number): number {
  let bytes = 0;
  startTracing((text) => bytes += text.length);
  const started = performance.now();
  for (let index = 0; index < count; index++) {
    traceInstant("recv", "socket", MAIN_LANE, { fd: 3, bytes: index });
  }
  stopTracing();
  return (performance.now() - started) * 1000 / count;
}

async function firedCalls(Reactor: ReactorClass, traced: boolean): Promise<number> {
  if (traced) startTracing(() => {});
  const us = await fireAllUs(Reactor, 20_000);
  if (traced) stopTracing();
  return us;
}

// 2. The article's runs -----------------------------------------------------------------------

const SCALE = Number(Deno.env.get("TRACE_BENCH_SCALE") ?? "0.25");
const PAIRS = 3;

async function untracedSeconds(script: string, ports: string[]): Promise<number> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-N", "-R", `${ROOT}/${script}`, ...ports],
    stdout: "piped",
    stderr: "null",
  }).output();
  return reportedSeconds(new TextDecoder().decode(output.stdout).trim().split("\n"));
}

async function tracedSeconds(script: string, ports: string[]): Promise<number> {
  const traced = await runTraced(`${ROOT}/${script}`, ports, { output: "piped" });
  return reportedSeconds(traced.stdout.trim().split("\n"));
}

// ---------------------------------------------------------------------------------------------

const here = (await import("../lib/reactor/select.ts")).SelectReactor as unknown as ReactorClass;
const instant: number[] = [];
const firedOff: number[] = [];
const firedOn: number[] = [];
for (let run = 0; run < RUNS; run++) {
  instant.push(tracedInstants(200_000));
  firedOff.push(await firedCalls(here, false));
  firedOn.push(await firedCalls(here, true));
}

const clients = ["twisted-client/get-poetry.ts", "twisted-client/get-poetry-broken.ts"];
const article: Record<string, { traced: number[]; untraced: number[] }> = {};
const servers = await startServers(articleServers({ scale: SCALE, basePort: 0 }));
try {
  const ports = servers.map((server) => String(server.port));
  for (const client of clients) {
    article[client] = { traced: [], untraced: [] };
    for (let pair = 0; pair < PAIRS; pair++) {
      if (pair % 2 === 0) {
        article[client].untraced.push(await untracedSeconds(client, ports));
        article[client].traced.push(await tracedSeconds(client, ports));
      } else {
        article[client].traced.push(await tracedSeconds(client, ports));
        article[client].untraced.push(await untracedSeconds(client, ports));
      }
    }
  }
} finally {
  await Promise.all(servers.map((server) => server.stop()));
}

lines.push(...sectionOpening("The trace's cost", import.meta.url));
say(`### One traced event (median of ${RUNS} runs)`);
say();
say("| what | µs |");
say("|---|---|");
say(`| traceInstant with tracing on, kept and written as JSON | ${fixed(median(instant), 3)} |`);
say(`| callLater(0) fired, tracing off | ${fixed(median(firedOff), 3)} |`);
say(
  `| callLater(0) fired, tracing on (schedule event with its label read from the stack, ` +
    `callback event) | ${fixed(median(firedOn), 3)} |`,
);
say();
say(
  `### The article's runs, traced and untraced (delays x${SCALE}, ${PAIRS} of each, ` +
    "alternating; the time each client reports)",
);
say();
say("| client | untraced s (median) | traced s (median) | traced / untraced |");
say("|---|---|---|---|");
let worstRun = 0;
for (const client of clients) {
  const ratio = median(article[client].traced) / median(article[client].untraced);
  worstRun = Math.max(worstRun, Math.abs(ratio - 1));
  say(
    `| ${client} | ${fixed(median(article[client].untraced), 3)} | ${
      fixed(median(article[client].traced), 3)
    } | ${fixed(ratio, 4)} |`,
  );
}
say();
say(
  goalLine(
    "traced runs take the same time as untraced, within 1 %",
    `${fixed(worstRun * 100, 2)} %`,
    worstRun < 0.01,
  ),
);
console.log(lines.join("\n"));
Deno.exit(0);
