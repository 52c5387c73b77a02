/**
 * How far the socket layer is from the operating system, printed as a Markdown section.
 * Each row is measured side by side in one run with its baselines: raw Deno (`Deno.Conn`
 * and `Deno.listen` in this same process) and Python's real sockets (a `python3` child,
 * bench/fixtures/python-sockets.py; a note instead where `python3` is missing).
 *
 * 1. Latency, in this process: a one-byte hop (A sends one byte, B waits with select,
 *    then recv), a one-byte round trip (the hop, and back), a blocking connect + accept,
 *    a `recv(16)` that would block.
 * 2. Scale, each in a child process so that a crash is a figure, not the end of the
 *    benchmark: 20,000 sockets (within `ulimit -n`) open on the poll reactor with one
 *    ready per round (bench/fixtures/many-sockets.ts); what happens at the open-files
 *    limit (bench/fixtures/open-until-failure.ts, under a lowered `ulimit -n`).
 * 3. An idle reactor's CPU use (bench/fixtures/idle-reactor.ts).
 *
 * Every row ends with a goal line (`Goal: ... → ...: **pass**` or `**miss**`) that
 * bench/run.ts gathers into its summary.
 *
 * Run: `deno run -A bench/socket_vs_os_bench.ts`
 *
 * @module
 */

import {
  fixed,
  goalLine,
  lastJson,
  measure,
  median,
  openConnectedPairs,
  openFileLimit,
  sectionOpening,
} from "./lib.ts";
import { select, Socket, WouldBlock } from "../lib/socket/mod.ts";
import { connectAcceptUs, passByte, roundTripUs, timeEach, wouldBlockRecvRuns } from "./measure.ts";

/** Runs of each in-process measurement, interleaved: ours, raw Deno, Python, again. */
const RUNS = 5;
/** Timed hops or round trips per run. */
const ROUNDS = 2000;
/** Timed connections per run. */
const CONNECTIONS = 300;
/** Timed would-block calls per run. */
const CALLS = 20_000;
/** Sockets the scale row aims for, if the open-files limit allows. */
const SCALE_TARGET = 20_000;
/** Open files left to the runtime itself (its own descriptors) under the limit. */
const SCALE_MARGIN = 100;
/** The lowered open-files limit under which the limit's behaviour is measured. */
const LOW_LIMIT = 1024;
const PYTHON_FIXTURE = "bench/fixtures/python-sockets.py";

const lines: string[] = [];
const say = (line = "") => lines.push(line);
const deno = [Deno.execPath(), "run", "-N", "-R"];

// The in-process figures -------------------------------------------------------------------

/** `timeEach` for steps that must be awaited. */
async function timeEachAsync(count: number, step: () => Promise<void>): Promise<number> {
  for (let index = 0; index < Math.min(200, count); index++) await step();
  const times = new Array<number>(count);
  for (let index = 0; index < count; index++) {
    const started = performance.now();
    await step();
    times[index] = (performance.now() - started) * 1000;
  }
  return median(times);
}

/** One run's figures, in microseconds; NaN where a side has no such call. */
interface LatencyRun {
  hop: number;
  roundTrip: number;
  connect: number;
  wouldBlock: number;
}

/** Our socket layer: blocking sockets, `select`, `recv`. */
function oursOnce(): LatencyRun {
  const pairs = openConnectedPairs(1);
  const [a] = pairs.clients;
  const [b] = pairs.servers;
  const hop = timeEach(ROUNDS, () => passByte(a, b, select));
  const roundTrip = roundTripUs(a, b, select, ROUNDS);
  b.setBlocking(false);
  const wouldBlockRuns = wouldBlockRecvRuns(b, WouldBlock, CALLS, 5);
  pairs.close();
  const connect = connectAcceptUs(Socket, CONNECTIONS);
  return { hop, roundTrip, connect, wouldBlock: median(wouldBlockRuns) };
}

/** Reads exactly one byte from a `Deno.Conn`. */
async function readOne(conn: Deno.Conn, buffer: Uint8Array): Promise<void> {
  if ((await conn.read(buffer)) !== 1) throw new Error("lost a byte");
}

/** Raw Deno: `Deno.Conn` write, then read on the peer; `Deno.connect` and `accept`. */
async function rawOnce(): Promise<LatencyRun> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  const a = await Deno.connect({ hostname: "127.0.0.1", port });
  const b = await listener.accept();
  const byte = new Uint8Array([42]);
  const buffer = new Uint8Array(16);
  const hop = await timeEachAsync(ROUNDS, async () => {
    await a.write(byte);
    await readOne(b, buffer);
  });
  const roundTrip = await timeEachAsync(ROUNDS, async () => {
    await a.write(byte);
    await readOne(b, buffer);
    await b.write(byte);
    await readOne(a, buffer);
  });
  a.close();
  b.close();
  const opened: Deno.Conn[] = [];
  const connect = await timeEachAsync(CONNECTIONS, async () => {
    opened.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    opened.push(await listener.accept());
  });
  for (const conn of opened) conn.close();
  listener.close();
  return { hop, roundTrip, connect, wouldBlock: NaN };
}

/** Whether `python3` runs here. */
async function hasPython(): Promise<boolean> {
  try {
    return (await new Deno.Command("python3", { args: ["-c", "pass"] }).output()).success;
  } catch {
    return false;
  }
}

/** Python's real sockets, in a child process. */
async function pythonOnce(): Promise<LatencyRun> {
  const outcome = await measure(["python3", PYTHON_FIXTURE, "latency", String(ROUNDS)], {
    timeoutSeconds: 60,
  });
  const figures = lastJson(outcome.lines);
  if (outcome.code !== 0 || figures === null) {
    throw new Error(`${PYTHON_FIXTURE}: exit ${outcome.code}: ${outcome.stderr}`);
  }
  return {
    hop: Number(figures.one_way),
    roundTrip: Number(figures.round_trip),
    connect: Number(figures.connect),
    wouldBlock: Number(figures.would_block),
  };
}

async function latency(python: boolean): Promise<void> {
  const runs = { ours: [] as LatencyRun[], raw: [] as LatencyRun[], python: [] as LatencyRun[] };
  for (let run = 0; run < RUNS; run++) {
    runs.ours.push(oursOnce());
    runs.raw.push(await rawOnce());
    if (python) runs.python.push(await pythonOnce());
  }
  const of = (side: LatencyRun[], key: keyof LatencyRun) =>
    side.length ? median(side.map((run) => run[key])) : NaN;
  const spread = (side: LatencyRun[], key: keyof LatencyRun, decimals: number) =>
    side.map((run) => fixed(run[key], decimals)).join(", ");

  say("### Latency: ours against raw Deno and Python's real sockets");
  say();
  say(`Microseconds per operation. Each run times every operation many times (${ROUNDS}`);
  say(`hops or round trips, ${CONNECTIONS} connections, ${CALLS.toLocaleString("en")}`);
  say("would-block calls) and keeps the median; the table gives the median of");
  say(`${RUNS} runs, the three sides interleaved (ours, raw Deno, Python, again), and`);
  say("our runs.");
  say();
  say("- one-byte hop: A sends one byte; B waits with `select([B])`, then `recv(16)`.");
  say("  Raw Deno: `await a.write(byte)`, then `await b.read(buffer)`.");
  say("- one-byte round trip: the hop, then the same from B back to A.");
  say("- blocking connect + accept: a new socket, `connect` (blocking), then the");
  say("  listener's `accept`. Raw Deno: `await Deno.connect(...)`, then");
  say("  `await listener.accept()`. Closing is not timed.");
  say("- would-block `recv(16)`: a non-blocking socket with nothing buffered; ours");
  say("  throws `WouldBlock`, Python raises `BlockingIOError`. Raw Deno has no such call.");
  say();
  if (!python) say("`python3` is missing here: no Python column.\n");
  say("| operation | ours µs | raw Deno µs | Python µs | ours / raw | ours / Python | our runs |");
  say("|---|---|---|---|---|---|---|");
  const rows: Array<[string, keyof LatencyRun, number]> = [
    ["one-byte hop: send, select, recv", "hop", 1],
    ["one-byte round trip: there and back", "roundTrip", 1],
    ["blocking connect + accept", "connect", 1],
    ["`recv(16)` that would block", "wouldBlock", 2],
  ];
  for (const [name, key, decimals] of rows) {
    const ours = of(runs.ours, key);
    const raw = of(runs.raw, key);
    const py = of(runs.python, key);
    const ratio = (other: number) => Number.isFinite(other) ? `${fixed(ours / other, 2)}x` : "-";
    say(
      `| ${name} | ${fixed(ours, decimals)} | ${
        Number.isFinite(raw) ? fixed(raw, decimals) : "-"
      } | ` +
        `${Number.isFinite(py) ? fixed(py, decimals) : "-"} | ${ratio(raw)} | ${ratio(py)} | ` +
        `${spread(runs.ours, key, decimals)} |`,
    );
  }
  say();
  const hop = of(runs.ours, "hop") / of(runs.raw, "hop");
  const trip = of(runs.ours, "roundTrip") / of(runs.raw, "roundTrip");
  const connect = of(runs.ours, "connect") / of(runs.raw, "connect");
  const wouldBlock = of(runs.ours, "wouldBlock");
  say(goalLine("one-byte round trip within 3x of raw Deno", `${fixed(trip, 2)}x`, trip <= 3));
  say();
  say(goalLine("one-byte hop within 3x of raw Deno", `${fixed(hop, 2)}x`, hop <= 3));
  say();
  say(goalLine("connect + accept within 2x of raw Deno", `${fixed(connect, 2)}x`, connect <= 2));
  say();
  say(
    goalLine("a would-block `recv(16)` within 2 µs", `${fixed(wouldBlock, 2)} µs`, wouldBlock <= 2),
  );
  say();
}

// The figures from child processes ---------------------------------------------------------

/** The first lines of a child's stderr that say why it died, on one line. */
function crashText(stderr: string): string {
  const interesting = stderr.split("\n").map((line) => line.trim()).filter((line) =>
    line !== "" && !/^[#=]+$/.test(line) && !line.startsWith("deno(") &&
    !line.startsWith("====")
  );
  return interesting.slice(0, 2).join(" / ").slice(0, 300) || "(nothing on stderr)";
}

/** How a child ended, for a reader: exit status, signal, or time limit. */
function endText(code: number, timedOut: boolean, limit: number): string {
  if (timedOut) return `killed after ${limit} s`;
  return code > 128 ? `exit status ${code} (signal ${code - 128})` : `exit status ${code}`;
}

async function manySockets(limit: number, python: boolean): Promise<void> {
  const target = Math.min(SCALE_TARGET, limit - SCALE_MARGIN);
  const timeLimit = 180;
  say(`### Scale: ${target.toLocaleString("en")} sockets open on the poll reactor`);
  say();
  say("In a child process (`bench/fixtures/many-sockets.ts`, run with `-A` to read");
  say("`/proc/self/maps`): opens connected pairs through one listener of our socket layer");
  say(`(blocking connect, then accept) up to ${target.toLocaleString("en")} sockets, the`);
  say(`open-files limit here (\`ulimit -n\` ${limit}) less ${SCALE_MARGIN} for the runtime's own`);
  say("descriptors (each of our sockets holds one real descriptor in the I/O worker);");
  say("registers every socket as a reader with a `PollReactor`; then 100 rounds in");
  say("which one peer sends a byte and the reactor calls the one reader that is ready.");
  say("One run. Peak RSS from GNU time; memory mappings from `/proc/self/maps`");
  say("(`vm.max_map_count` caps them). Python's rows: the same count of real sockets and");
  say("the same rounds, with `select.poll()` (whose cost grows with the registered");
  say("sockets) and with `select.epoll()` (whose cost grows with the ready ones)");
  say(`(\`${PYTHON_FIXTURE} many-sockets\`; peak RSS of the whole run).`);
  say();
  const outcome = await measure(
    [Deno.execPath(), "run", "-A", "bench/fixtures/many-sockets.ts", String(target), "100"],
    { timeoutSeconds: timeLimit },
  );
  const result = lastJson(outcome.lines);
  let reached = 0;
  for (const line of outcome.lines) {
    const match = /^(?:opened|failed at) (\d+) sockets/.exec(line);
    if (match) reached = Number(match[1]);
  }
  let mapCount = "n/a";
  try {
    mapCount = Deno.readTextFileSync("/proc/sys/vm/max_map_count").trim();
  } catch {
    // Not Linux.
  }
  let row: string;
  let note = `\`vm.max_map_count\`: ${mapCount}.`;
  let goal: string;
  if (outcome.code === 0 && result) {
    const sockets = Number(result.sockets);
    row = `| ours, \`PollReactor\` | ${sockets.toLocaleString("en")} | ` +
      `${fixed(Number(result.openSeconds), 2)} | ${fixed(Number(result.registerSeconds), 3)} | ` +
      `${fixed(Number(result.firstRoundMicros), 0)} | ${fixed(Number(result.roundMicros), 0)} | ` +
      `${result.mappings} | ${fixed(outcome.peakMiB, 0)} | ` +
      `${result.error ? `a call failed: ${result.error}` : "finished"} |`;
    goal = goalLine(
      `${target.toLocaleString("en")} sockets open on the poll reactor`,
      `${sockets.toLocaleString("en")} opened`,
      sockets + 1 >= target && !result.error, // a listener and pairs: an odd count
    );
  } else {
    row = `| ours, \`PollReactor\` | ${reached.toLocaleString("en")} (last progress line) | ` +
      `- | - | - | - | - | ${fixed(outcome.peakMiB, 0)} | ` +
      `crashed: ${endText(outcome.code, outcome.timedOut, timeLimit)} |`;
    note += ` What it said: \`${crashText(outcome.stderr)}\``;
    goal = goalLine(
      `${target.toLocaleString("en")} sockets open on the poll reactor`,
      `crashed after about ${reached.toLocaleString("en")}`,
      false,
    );
  }
  say(
    "| side | sockets open | open s | register s | first round µs | round µs (median) | " +
      "mappings | peak RSS MiB | how it ended |",
  );
  say("|---|---|---|---|---|---|---|---|---|");
  say(row);
  if (python) { for (const pythonRow of await pythonManySockets(target)) say(pythonRow); }
  say();
  say(note);
  say();
  say(goal);
  say();
}

/** Python's rows of the scale table: `select.poll()` and `select.epoll()`, the same count. */
async function pythonManySockets(target: number): Promise<string[]> {
  const outcome = await measure(
    ["python3", PYTHON_FIXTURE, "many-sockets", String(target), "100"],
    { timeoutSeconds: 120 },
  );
  const result = lastJson(outcome.lines);
  if (outcome.code !== 0 || !result) {
    return [
      `| Python | - | - | - | - | - | - | ${fixed(outcome.peakMiB, 0)} | ` +
      `failed: ${crashText(outcome.stderr)} |`,
    ];
  }
  return ["poll", "epoll"].map((name) =>
    `| Python, \`select.${name}()\` | ${Number(result.sockets).toLocaleString("en")} | ` +
    `${fixed(Number(result.openSeconds), 2)} | ` +
    `${fixed(Number(result[`${name}RegisterSeconds`]), 3)} | - | ` +
    `${fixed(Number(result[`${name}RoundMicros`]), 0)} | - | ${fixed(outcome.peakMiB, 0)} | ` +
    "finished |"
  );
}

async function openFilesLimit(python: boolean): Promise<void> {
  const timeLimit = 60;
  const ours = await measure([...deno, "bench/fixtures/open-until-failure.ts"], {
    openFiles: LOW_LIMIT,
    timeoutSeconds: timeLimit,
  });
  const theirs = python
    ? await measure(["python3", PYTHON_FIXTURE, "open-until-failure"], {
      openFiles: LOW_LIMIT,
      timeoutSeconds: timeLimit,
    })
    : null;
  say(`### At the open-files limit (\`ulimit -n ${LOW_LIMIT}\`)`);
  say();
  say("A child process opens connected pairs (a new socket, connect, accept) until a");
  say("call fails, then closes 10 pairs and tries one more (our try gives up on its");
  say("accept after 2 s rather than block forever). Ours:");
  say("`bench/fixtures/open-until-failure.ts`; Python:");
  say(`\`${PYTHON_FIXTURE} open-until-failure\`. One run each, under a lowered limit`);
  say("so that it stays fast.");
  say();
  say(
    "| side | sockets open when a call failed | the call and its error | after closing 10 pairs |",
  );
  say("|---|---|---|---|");
  let oursResult: Record<string, unknown> | null = null;
  for (const [side, outcome] of [["ours", ours], ["Python", theirs]] as const) {
    if (!outcome) {
      say(`| ${side} | - | \`python3\` is missing here | - |`);
      continue;
    }
    const result = lastJson(outcome.lines);
    if (side === "ours") oursResult = outcome.code === 0 ? result : null;
    if (outcome.code === 0 && result) {
      say(`| ${side} | ${result.sockets} | ${result.error} | ${result.recovered} |`);
    } else {
      const progress = outcome.lines.filter((line) => line.startsWith("opened ")).at(-1);
      say(
        `| ${side} | ${progress ?? "-"} (last progress line) | crashed: ` +
          `${endText(outcome.code, outcome.timedOut, timeLimit)}: ${
            crashText(outcome.stderr)
          } | - |`,
      );
    }
  }
  say();
  const met = oursResult !== null && String(oursResult.error).includes("[Errno 24]") &&
    String(oursResult.recovered).startsWith("a new pair");
  say(goalLine(
    "EMFILE (`[Errno 24]`) at the limit, no crash, and a new pair connects after closing some",
    oursResult ? `${oursResult.error}; ${oursResult.recovered}` : "crashed",
    met,
  ));
  say();
}

async function idleCpu(): Promise<void> {
  const seconds = 2;
  const readers = 100;
  const rows: string[] = [];
  let worst = 0;
  for (const reactor of ["select", "poll"]) {
    const outcome = await measure(
      [...deno, "bench/fixtures/idle-reactor.ts", reactor, String(seconds), String(readers)],
      { timeoutSeconds: 60 },
    );
    const result = lastJson(outcome.lines);
    if (outcome.code !== 0 || !result) {
      throw new Error(`idle-reactor.ts ${reactor}: ${crashText(outcome.stderr)}`);
    }
    const share = Number(result.cpuSeconds) / Number(result.seconds);
    worst = Math.max(worst, share);
    rows.push(
      `| ${reactor} | ${fixed(Number(result.seconds), 2)} | ` +
        `${fixed(Number(result.cpuSeconds) * 1000, 1)} | ${fixed(share * 100, 2)} % |`,
    );
  }
  say("### An idle reactor's CPU");
  say();
  say(`A reactor with ${readers} registered readers that never become ready and nothing`);
  say(`else to do for ${seconds} s (\`bench/fixtures/idle-reactor.ts\`); the CPU time of the`);
  say("whole process, every thread, over that time (`process.cpuUsage()`). One run each.");
  say();
  say("| reactor | seconds | CPU ms | CPU share of one core |");
  say("|---|---|---|---|");
  for (const row of rows) say(row);
  say();
  say(
    goalLine(
      "an idle reactor near zero CPU (under 1% of a core)",
      `${fixed(worst * 100, 2)} %`,
      worst < 0.01,
    ),
  );
  say();
}

const SECTION_TITLE = "The socket layer against raw Deno and the operating system";
lines.push(...sectionOpening(SECTION_TITLE, import.meta.url));
const python = await hasPython();
await latency(python);
await manySockets(await openFileLimit(), python);
await openFilesLimit(python);
await idleCpu();
console.log(lines.join("\n"));
