/**
 * The socket layer's figures, printed as a Markdown section:
 *
 * 1. Throughput: a 256 MiB poem from a fast slow-poetry server (`--delay 0
 *    --num-bytes 65536`), read by the blocking and the asynchronous client, against a
 *    plain `Deno.Conn` read loop in the same run. Times are what each client reports;
 *    memory is each process's peak RSS.
 * 2. Select and poll with 10 and 1,000 open connections of which one is active: the time
 *    of one wait-and-read round.
 * 3. The cost of one non-blocking recv that returns data, and of one that would block.
 *
 * Run: `deno run -A bench/socket_bench.ts [MiB]`
 *
 * @module
 */

import {
  fixed,
  goalLine,
  makeBigPoem,
  measure,
  median,
  openConnectedPairs,
  type Pairs,
  reportedSeconds,
  sectionOpening,
} from "./lib.ts";
import { ScriptProcess, startServers } from "../tools/process.ts";
import { Poll, POLLIN, select, sleep, WouldBlock } from "../lib/socket/mod.ts";

const POEM_MIB = Number(Deno.args[0] ?? 256);
const RUNS = 3;
const lines: string[] = [];
const say = (line = "") => lines.push(line);

// 1. Throughput ------------------------------------------------------------------------

/** A server of the big poem, on a free port, and how to stop it. */
interface PoemServer {
  port: number;
  stop(): Promise<unknown>;
}

/** Our slow poetry server, made fast: the server at full speed. */
async function slowPoetryServer(poem: string): Promise<PoemServer> {
  const [server] = await startServers([{ poetryFile: poem, delay: 0, numBytes: 65536 }]);
  return server;
}

/** A plain Deno server that writes the poem as fast as Deno can: the clients' own limit. */
async function plainDenoServer(poem: string): Promise<PoemServer> {
  const process = new ScriptProcess("bench/fixtures/multi-server.ts", [poem]);
  const line = await process.waitForLine((text) => text.startsWith("Serving "));
  return {
    port: Number(/on port (\d+)\./.exec(line.text)?.[1]),
    stop: () => {
      process.kill();
      return process.finished();
    },
  };
}

async function throughput(
  title: string,
  explanation: string,
  startServer: (poem: string) => Promise<PoemServer>,
): Promise<void> {
  const poem = await makeBigPoem(POEM_MIB);
  const size = POEM_MIB * 1024 * 1024;
  const server = await startServer(poem);
  const deno = [Deno.execPath(), "run", "-N", "-R"];
  const clients: Array<[string, string[], (out: string[]) => number]> = [
    ["plain Deno.Conn read loop (the limit)", [...deno, "bench/fixtures/raw-read.ts"], (out) => {
      const match = /Got (\d+) bytes in ([\d.]+) seconds/.exec(out.at(-1) ?? "");
      if (!match || Number(match[1]) !== size) throw new Error(`raw read: ${out.at(-1)}`);
      return Number(match[2]);
    }],
    ["blocking-client/get-poetry.ts", [...deno, "blocking-client/get-poetry.ts"], (out) => {
      if (!out.some((line) => line.includes(`got ${size} bytes`))) throw new Error(out.join("\n"));
      return reportedSeconds(out);
    }],
    ["async-client/get-poetry.ts", [...deno, "async-client/get-poetry.ts"], (out) => {
      if (!out.includes(`Task 1: ${size} bytes of poetry`)) throw new Error(out.at(-2));
      return reportedSeconds(out);
    }],
  ];
  const results = new Map<string, { seconds: number[]; peak: number[] }>();
  try {
    for (let run = 0; run < RUNS; run++) {
      for (const [name, command, reported] of clients) {
        const outcome = await measure([...command, String(server.port)]);
        if (outcome.code !== 0) throw new Error(`${name} exited with ${outcome.code}`);
        const entry = results.get(name) ?? { seconds: [], peak: [] };
        entry.seconds.push(reported(outcome.lines));
        entry.peak.push(outcome.peakMiB);
        results.set(name, entry);
      }
    }
  } finally {
    await server.stop();
    await Deno.remove(poem);
  }
  const limit = median(results.get(clients[0][0])?.seconds ?? [NaN]);
  say(`### Throughput: a ${POEM_MIB} MiB poem ${title}`);
  say();
  say(explanation);
  say(`Each client's own reported time, median of ${RUNS} runs; peak RSS from GNU time.`);
  say();
  say("| client | seconds (median) | runs | x the limit | peak RSS MiB |");
  say("|---|---|---|---|---|");
  for (const [name, { seconds, peak }] of results) {
    const runs = seconds.map((value) => fixed(value)).join(", ");
    const ratio = fixed(median(seconds) / limit, 2);
    say(`| ${name} | ${fixed(median(seconds))} | ${runs} | ${ratio} | ${fixed(median(peak), 0)} |`);
  }
  say();
  for (const [name, { seconds }] of [...results].slice(1)) {
    const ratio = median(seconds) / limit;
    say(goalLine(
      `${POEM_MIB} MiB ${title}: ${name} within 1.1x of the plain loop`,
      `${fixed(ratio, 2)}x`,
      ratio <= 1.1,
    ));
    say();
  }
}

// 2. Select and poll scaling -------------------------------------------------------------

/** Connected pairs whose client ends do not block. */
function openPairs(count: number): Pairs {
  const pairs = openConnectedPairs(count);
  for (const client of pairs.clients) client.setBlocking(false);
  return pairs;
}

function roundTimes(pairs: Pairs, wait: () => void, rounds: number): number {
  const active = pairs.servers[pairs.servers.length >> 1];
  const reader = pairs.clients[pairs.clients.length >> 1];
  const byte = new Uint8Array([42]);
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    active.send(byte);
    wait();
    if (reader.recv(16).length !== 1) throw new Error("lost a byte");
    times.push((performance.now() - started) * 1000);
  }
  return median(times);
}

function scaling(): void {
  const rounds = 2000;
  const figures: Array<[number, number, number]> = [];
  for (const count of [10, 1000]) {
    const pairs = openPairs(count);
    const poller = new Poll();
    for (const client of pairs.clients) poller.register(client, POLLIN);
    const pollMicros = roundTimes(pairs, () => {
      if (poller.poll().length !== 1) throw new Error("poll: not one ready");
    }, rounds);
    const selectMicros = roundTimes(pairs, () => {
      if (select(pairs.clients, [], [])[0].length !== 1) throw new Error("select: not one ready");
    }, rounds);
    figures.push([count, pollMicros, selectMicros]);
    pairs.close();
  }
  say("### Select and poll: one active connection among many");
  say();
  say("One round: the active peer sends a byte, the wait returns, we read it. Median");
  say(`of ${rounds} rounds, in microseconds. Target: poll with 1,000 within 2x of 10.`);
  say();
  say("| open connections | poll µs | select µs |");
  say("|---|---|---|");
  for (const [count, pollMicros, selectMicros] of figures) {
    say(`| ${count} | ${fixed(pollMicros, 1)} | ${fixed(selectMicros, 1)} |`);
  }
  const ratio = figures[1][1] / figures[0][1];
  say();
  say(`Poll, 1,000 against 10: ${fixed(ratio, 2)}x.`);
  say();
}

// 3. The cost of a non-blocking recv -------------------------------------------------------

function recvCost(): void {
  const pairs = openPairs(1);
  const [reader] = pairs.clients;
  const [writer] = pairs.servers;
  const rounds = 9;
  writer.sendAll(new Uint8Array(320 * 1024));
  /** Calls `recv(16)` until it would block; returns the calls that gave data. */
  const drain = (): number => {
    let count = 0;
    try {
      for (;;) {
        reader.recv(16);
        count++;
      }
    } catch (error) {
      if (!(error instanceof WouldBlock)) throw error;
    }
    return count;
  };
  // Reads of bytes already buffered: let them arrive, then read until none is left.
  const withData: number[] = [];
  for (let round = 0; round < rounds; round++) {
    sleep(0.05);
    const started = performance.now();
    const count = drain();
    if (count > 0) withData.push((performance.now() - started) * 1000 / count);
  }
  // Reads with nothing buffered: each throws WouldBlock.
  const calls = 20000;
  const wouldBlock: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    for (let call = 0; call < calls; call++) {
      if (drain() !== 0) throw new Error("unexpected bytes");
    }
    wouldBlock.push((performance.now() - started) * 1000 / calls);
  }
  pairs.close();
  say("### The cost of one non-blocking recv");
  say();
  say(`Median of ${rounds} rounds (a round: all the buffered bytes, or 20,000 empty reads).`);
  say();
  say("| call | µs per call |");
  say("|---|---|");
  say(`| recv(16) that returns 16 bytes | ${fixed(median(withData), 2)} |`);
  say(`| recv(16) that would block (throws WouldBlock) | ${fixed(median(wouldBlock), 2)} |`);
  say();
}

const SECTION_TITLE = "The socket layer: throughput, select and poll, one non-blocking recv";
lines.push(...sectionOpening(SECTION_TITLE, import.meta.url));
await throughput(
  "from the slow poetry server, made fast",
  "Server: `blocking-server/slowpoetry.ts --delay 0 --num-bytes 65536`, the server at full speed.\n" +
    "Target: each client within 2x of the plain loop, memory near the size of the poem.",
  slowPoetryServer,
);
await throughput(
  "from a plain Deno server",
  "Server: `bench/fixtures/multi-server.ts`, plain `Deno.listen` writing the whole poem at\n" +
    "once: no socket layer on the sending side, so this shows the clients' own cost.",
  plainDenoServer,
);
scaling();
recvCost();
console.log(lines.join("\n"));
