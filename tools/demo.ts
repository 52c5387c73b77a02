/**
 * The tour of Parts 2 to 4 (`deno task demo`): it starts the article's three slow poetry
 * servers, runs the four clients against them one after another (blocking, asynchronous,
 * reactor, broken reactor), each traced, shows their output as it comes, then a table of
 * what each did and a timeline of each, drawn from its trace (one row per socket, a mark
 * per read); and it writes one page with the four runs drawn side by side.
 *
 * @module
 */

import { parsePort } from "../lib/address.ts";
import { fail, parseCommandLine, UsageError } from "../lib/cli.ts";
import {
  articleServers,
  fromCaller,
  type RunningServer,
  ScriptProcess,
  SPEED_OPTIONS,
  speedScaleOf,
  startServers,
} from "./process.ts";
import { type ClientRun, drawTimeline, summarizeTraced } from "./timeline.ts";
import { TRACE_FILE_VARIABLE } from "../lib/trace/mod.ts";
import { modelOfRun, readTrace, type RunModel } from "./trace/read.ts";
import { pagesSideBySide } from "./trace/page.ts";
import { tracedPermissions } from "./trace/run.ts";

const settings = parseCommandLine(Deno.args, {
  usage: "[--fast] [--scale F] [--base-port N] [--html FILE]",
  description: `
A tour of Parts 2 to 4 of the article. It starts three slow poetry servers
(poetry/ecstasy.txt 30 bytes at a time, poetry/fascination.txt and
poetry/science.txt 10 bytes at a time, every 0.1 s), then runs against them, in
turn, the blocking client and the asynchronous client of Part 2, and the reactor
client and the broken reactor client of Part 4. At the end: a table of times,
poems and bytes, and one timeline per client (a row per task, time across, a
mark where bytes arrived), drawn from each client's trace; and it writes a page
with the four runs drawn side by side (tour.html, or FILE), as deno task trace
draws one. It takes about a minute; --fast scales every delay down ten times
(about 6 s). The servers are stopped on exit, Ctrl-C included.

  deno task demo
  deno task demo --fast`,
  options: {
    ...SPEED_OPTIONS,
    "base-port": {
      metavar: "N",
      help: "serve on ports N, N+1, N+2; 0 picks free ports",
      default: "0",
    },
    html: { metavar: "FILE", help: "where to write the page (default tour.html)" },
  },
}, ({ values, positionals }) => {
  if (positionals.length > 0) {
    throw new UsageError(
      `Unexpected argument '${positionals[0]}': the tour takes only options, such as --fast.`,
    );
  }
  return {
    scale: speedScaleOf(values),
    basePort: parsePort(values["base-port"]),
    html: values.html ?? "tour.html",
  };
});

const SPECS = articleServers(settings);
const CLIENTS = [
  { name: "blocking client", part: "Part 2", script: "blocking-client/get-poetry.ts" },
  { name: "async client", part: "Part 2", script: "async-client/get-poetry.ts" },
  { name: "reactor client", part: "Part 4", script: "twisted-client/get-poetry.ts" },
  { name: "broken client", part: "Part 4", script: "twisted-client/get-poetry-broken.ts" },
];

let servers: RunningServer[] = [];
let running: ScriptProcess | null = null;

/** Stops whatever runs: the servers, and the client under way. */
async function cleanUp(): Promise<void> {
  running?.kill("SIGKILL");
  const stopping = servers.map((server) => server.stop());
  servers = [];
  await Promise.allSettled(stopping);
}

let interrupted = false;
const onSignal = async () => {
  if (interrupted) return;
  interrupted = true;
  console.log("\nInterrupted: stopping the servers.");
  await cleanUp();
  Deno.exit(130);
};
Deno.addSignalListener("SIGINT", onSignal);
Deno.addSignalListener("SIGTERM", onSignal);

try {
  console.log(`Starting three slow poetry servers (a chunk every ${SPECS[0].delay} s):`);
  servers = await startServers(SPECS);
} catch (error) {
  await cleanUp();
  fail((error as Error).message, 1);
}
const ports = servers.map((server) => String(server.port));
for (const [index, server] of servers.entries()) {
  const { poetryFile, numBytes } = SPECS[index];
  console.log(`  ${poetryFile} on port ${server.port}, ${numBytes} bytes at a time`);
}

const runs: ClientRun[] = [];
const traces: { title: string; run: RunModel }[] = [];
for (const client of CLIENTS) {
  console.log(`\n== ${client.part}: the ${client.name} ==`);
  console.log(`$ deno task trace ${client.script} ${ports.join(" ")}`);
  const traceFile = await Deno.makeTempFile({ suffix: ".trace" });
  running = new ScriptProcess(client.script, ports, {
    onLine: (line) => console.log(`  ${line.text}`),
    permissions: tracedPermissions(traceFile),
    env: { [TRACE_FILE_VARIABLE]: traceFile },
  });
  const outcome = await running.finished(300_000);
  running = null;
  const trace = modelOfRun(readTrace(traceFile));
  await Deno.remove(traceFile).catch(() => {});
  if (interrupted) await new Promise(() => {}); // the signal handler ends the program
  if (outcome.code !== 0) {
    await cleanUp();
    fail(`the ${client.name} failed (exit ${outcome.code}): ${outcome.stderr.trim()}`, 1);
  }
  runs.push(summarizeTraced(client.name, outcome.lines, trace));
  traces.push({ title: `${client.part}: the ${client.name} (${client.script})`, run: trace });
}
await cleanUp();
Deno.removeSignalListener("SIGINT", onSignal);
Deno.removeSignalListener("SIGTERM", onSignal);

console.log("\n== What each client did ==\n");
const header = ["client", "total time", "poems", "bytes"];
const rows = runs.map((run) => [run.name, `${run.seconds.toFixed(2)} s`, run.poems, run.bytes]);
const widths = header.map((title, column) =>
  Math.max(title.length, ...rows.map((row) => String(row[column]).length))
);
const line = (cells: Array<string | number>) =>
  cells.map((cell, column) =>
    column === 0 ? String(cell).padEnd(widths[column]) : String(cell).padStart(widths[column])
  ).join("   ");
console.log(line(header));
console.log(widths.map((width) => "-".repeat(width)).join("   "));
for (const row of rows) console.log(line(row));

console.log("\n== Timelines: a row per task, time across; █ bytes arrived, ─ under way ==");
for (const run of runs) {
  console.log(`\nThe ${run.name} (${run.seconds.toFixed(2)} s):`);
  for (const row of drawTimeline(run)) console.log(row);
}
const page = fromCaller(settings.html);
Deno.writeTextFileSync(page, pagesSideBySide("The tour: four clients, one time scale", traces));
console.log(`\nThe four runs drawn side by side, from their traces: ${page}`);
console.log(
  "\nThe blocking client's tasks follow one another: the total is the sum of the servers'" +
    "\ntimes. The asynchronous and reactor clients' tasks run side by side: the total is" +
    "\nthe longest server's time. The broken client blocks inside doRead, yet finishes" +
    "\nearly: the operating system buffered the other poems while it waited on the first.",
);
