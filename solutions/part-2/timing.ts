#!/usr/bin/env -S deno run -N -R --allow-run
/**
 * Part 2, exercise 1: the timing experiment, automated. For each configuration (a set
 * of slow poetry servers, each with its poem, chunk size and delay) it starts the
 * servers as child processes on free ports, runs the blocking client and then the
 * asynchronous client against them, and prints a table: the time each server needs
 * for its poem, summed and at its maximum, against the two clients' own reports.
 * The blocking client should take about the sum, the asynchronous one about the
 * maximum. The servers are stopped at the end, on an error, and on Ctrl-C.
 *
 * It needs `--allow-run` on top of the lesson scripts' `-N -R`, to start the servers
 * and the clients.
 *
 * @module
 */

import {
  endOnMissingPermission,
  fail,
  parseCommandLine,
  parseNumber,
  readableFile,
  scriptName,
  UsageError,
} from "../../lib/cli.ts";
import { parsePoemsLine } from "../../tools/client_output.ts";
import {
  ARTICLE_POEMS,
  repoPath,
  type RunningServer,
  ScriptProcess,
  type ServerSpec,
  startServers,
} from "../../tools/process.ts";

/** One server of a configuration, as the slow poetry server takes it. */
interface Server {
  poetryFile: string;
  numBytes: number;
  delay: number;
}

const SERVER_DEFAULTS = { numBytes: 10, delay: 0.1 }; // slowpoetry.ts's own defaults

function poem(name: string, numBytes = SERVER_DEFAULTS.numBytes): Server {
  return { poetryFile: repoPath(`poetry/${name}`), numBytes, delay: SERVER_DEFAULTS.delay };
}

/** The ready-made configurations. */
const PRESETS: Record<string, { about: string; servers: Server[] }> = {
  article: {
    about: "the article's three servers (about 10, 6.3 and 6.6 s at --scale 1)",
    servers: ARTICLE_POEMS.map(({ poetryFile, numBytes }) => ({
      poetryFile: repoPath(poetryFile),
      numBytes,
      delay: SERVER_DEFAULTS.delay,
    })),
  },
  equal: {
    about: "three servers with the same poem",
    servers: [poem("science.txt"), poem("science.txt"), poem("science.txt")],
  },
  skewed: {
    about: "one long poem and three short ones: the long one dominates both",
    servers: [poem("ecstasy.txt", 30), ...Array(3).fill(poem("alla_sera.txt", 50))],
  },
  many: {
    about: "eight short poems",
    servers: Array(8).fill(poem("alla_sera.txt", 50)),
  },
};

/** Parses `FILE[:NUM-BYTES[:DELAY]]`. */
function parseServer(text: string): Server {
  const [file, bytesText, delayText, ...rest] = text.split(":");
  if (file === "" || rest.length > 0) {
    throw new UsageError(`A server is FILE[:NUM-BYTES[:DELAY]], not '${text}'.`);
  }
  return {
    poetryFile: Deno.realPathSync(readableFile(file)), // the servers run in the repository's root
    numBytes: bytesText === undefined || bytesText === ""
      ? SERVER_DEFAULTS.numBytes
      : parseNumber(bytesText, "NUM-BYTES", { integer: true, min: 1 }),
    delay: delayText === undefined || delayText === ""
      ? SERVER_DEFAULTS.delay
      : parseNumber(delayText, "DELAY", { min: 0 }),
  };
}

endOnMissingPermission(); // a missing -N or -R: one line, not a stack trace
const settings = parseCommandLine(Deno.args, {
  usage: "[--preset NAME[,NAME...]] [--scale X] [FILE[:NUM-BYTES[:DELAY]] ...]",
  description: `
Times the blocking and the asynchronous poetry clients of Part 2 against slow
poetry servers it starts itself, on free ports, and prints a table. "sum" and
"max" are what the servers need to send their poems (chunks x delay), added up
and at the longest; "blocking" and "async" are the times the clients report.

Each FILE[:NUM-BYTES[:DELAY]] given adds a server to one configuration of your
own ("custom"; NUM-BYTES defaults to 10, DELAY to 0.1). Without any, the presets
run. Presets:
${Object.entries(PRESETS).map(([name, preset]) => `  ${name.padEnd(8)}${preset.about}`).join("\n")}

--scale multiplies every delay: the default, 0.2, runs everything in about 20 s;
--scale 1 gives the article's timings (about 23 s against 10 s for "article").

  deno run -N -R --allow-run solutions/part-2/timing.ts
  deno run -N -R --allow-run solutions/part-2/timing.ts --preset article --scale 1
  deno run -N -R --allow-run solutions/part-2/timing.ts poetry/ecstasy.txt:30 poetry/science.txt:10:0.2`,
  options: {
    preset: {
      metavar: "NAMES",
      help: "the presets to run, separated by commas (default: all, or none with FILEs)",
    },
    scale: { metavar: "X", help: "multiply every delay by X", default: "0.2" },
  },
}, ({ values, positionals }) => {
  const scale = parseNumber(values.scale, "--scale", { min: 0 });
  const configurations: Array<{ name: string; servers: Server[] }> = [];
  const names = values.preset?.split(",") ??
    (positionals.length === 0 ? Object.keys(PRESETS) : []);
  for (const name of names) {
    const preset = PRESETS[name];
    if (preset === undefined) {
      throw new UsageError(
        `No such preset: ${name} (choose from ${Object.keys(PRESETS).join(", ")}).`,
      );
    }
    configurations.push({ name, servers: preset.servers });
  }
  if (positionals.length > 0) {
    configurations.push({ name: "custom", servers: positionals.map(parseServer) });
  }
  return configurations.map(({ name, servers }) => ({
    name,
    servers: servers.map((server) => ({ ...server, delay: server.delay * scale })),
  }));
});

// -- the child processes, and stopping them whatever happens -------------------------

const running = new Set<{ kill(signal?: Deno.Signal): void }>();

function stopEverything(): void {
  for (const child of running) child.kill();
  running.clear();
}

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

function interrupted(): void {
  stopEverything();
  console.error(`${scriptName()}: interrupted; servers stopped`);
  Deno.exit(130);
}

for (const signal of SIGNALS) Deno.addSignalListener(signal, interrupted);

async function startTheServers(servers: Server[]): Promise<RunningServer[]> {
  const specs: ServerSpec[] = servers.map(({ poetryFile, numBytes, delay }) => ({
    poetryFile,
    numBytes,
    delay,
  }));
  const started = await startServers(specs);
  for (const server of started) running.add(server.process);
  return started;
}

async function stopTheServers(servers: RunningServer[]): Promise<void> {
  await Promise.all(servers.map((server) => {
    running.delete(server.process);
    return server.stop();
  }));
}

/** Runs a client against the ports; returns the time it reports on its last line. */
async function timeClient(script: string, ports: number[]): Promise<number> {
  const client = new ScriptProcess(script, ports.map(String));
  running.add(client);
  const outcome = await client.finished(3_600_000);
  running.delete(client);
  const last = outcome.lines.at(-1)?.text ?? "";
  const reported = parsePoemsLine(last);
  if (outcome.code !== 0 || reported === null) {
    const why = outcome.stderr.trim().split("\n")[0] || `it exited with status ${outcome.code}`;
    throw new Error(`${script}: ${why}`);
  }
  return reported.seconds;
}

/** The seconds a server needs for its poem: one delay after each chunk. */
function serverSeconds(server: Server): number {
  const bytes = Deno.statSync(server.poetryFile).size;
  return Math.ceil(bytes / server.numBytes) * server.delay;
}

// -- the experiment --------------------------------------------------------------------

const COLUMNS = ["configuration", "servers", "sum", "max", "blocking", "async", "blocking/async"];
const WIDTHS = [14, 8, 9, 9, 9, 9, 14];

function row(cells: string[]): string {
  return cells.map((cell, i) => i === 0 ? cell.padEnd(WIDTHS[i]) : cell.padStart(WIDTHS[i]))
    .join(" ");
}

const seconds = (value: number): string => `${value.toFixed(2)} s`;

const table: string[] = [];
try {
  for (const { name, servers } of settings) {
    const started = await startTheServers(servers);
    const ports = started.map((server) => server.port);
    try {
      console.log(`${name}: ${servers.length} servers on ports ${ports.join(", ")}`);
      const blocking = await timeClient("blocking-client/get-poetry.ts", ports);
      const asynchronous = await timeClient("async-client/get-poetry.ts", ports);
      const times = servers.map(serverSeconds);
      table.push(row([
        name,
        String(servers.length),
        seconds(times.reduce((sum, time) => sum + time, 0)),
        seconds(Math.max(...times)),
        seconds(blocking),
        seconds(asynchronous),
        asynchronous > 0 ? (blocking / asynchronous).toFixed(2) : "-",
      ]));
    } finally {
      await stopTheServers(started);
    }
  }
} catch (error) {
  stopEverything();
  fail(error instanceof Error ? error.message : String(error), 1);
}

console.log();
console.log(row(COLUMNS));
for (const line of table) console.log(line);
for (const signal of SIGNALS) Deno.removeSignalListener(signal, interrupted);
