/**
 * What the benchmarks share: running a command and measuring its time and peak memory,
 * making a large poem, statistics, and a line describing the machine.
 *
 * @example
 * ```ts
 * import { machine, measure } from "./lib.ts";
 * const run = await measure([Deno.execPath(), "--version"]);
 * console.log(machine(), run.seconds, run.peakMiB);
 * ```
 * @module
 */

import { parsePoemsLine } from "../tools/client_output.ts";
import { ROOT } from "../tools/process.ts";
import { Socket } from "../lib/socket/mod.ts";
import type { IReadDescriptor } from "../lib/reactor/interfaces.ts";

export { ROOT };
export { median } from "./measure.ts";

/** One measured run of a command. */
export interface Measured {
  /** Its exit status. */
  code: number;
  /** Its stdout, as lines. */
  lines: string[];
  /** Wall-clock seconds from spawn to exit. */
  seconds: number;
  /** Peak resident memory in MiB, from GNU time; NaN where it is missing. */
  peakMiB: number;
  /** Its stderr (without GNU time's own line). */
  stderr: string;
  /** Whether it was killed for running longer than its time limit. */
  timedOut: boolean;
}

/** How `measure` runs a command. */
export interface MeasureOptions {
  /** Where it runs: the repository root by default. */
  cwd?: string;
  /** Kill it (SIGKILL) after this many seconds; no limit by default. */
  timeoutSeconds?: number;
  /** Run it under this soft limit on open files (`ulimit -n`). */
  openFiles?: number;
}

const hasGnuTime = (() => {
  try {
    return Deno.statSync("/usr/bin/time").isFile;
  } catch {
    return false;
  }
})();

/**
 * The soft limit on open files (`ulimit -n`) the benchmarks run under, or 0 if it cannot
 * be read.
 *
 * @example
 * ```ts
 * import { openFileLimit } from "./lib.ts";
 * console.log(await openFileLimit()); // 20000, say
 * ```
 */
export async function openFileLimit(): Promise<number> {
  try {
    const output = await new Deno.Command("sh", { args: ["-c", "ulimit -n"], stdout: "piped" })
      .output();
    const text = new TextDecoder().decode(output.stdout).trim();
    return text === "unlimited" ? Infinity : Number(text) || 0;
  } catch {
    return 0;
  }
}

/**
 * The last line of a child's output that parses as a JSON object, or null.
 *
 * @example
 * ```ts
 * import { lastJson } from "./lib.ts";
 * console.log(lastJson(["opened 10", '{"sockets": 10}'])); // { sockets: 10 }
 * ```
 */
export function lastJson(lines: string[]): Record<string, unknown> | null {
  for (const line of [...lines].reverse()) {
    if (!line.startsWith("{")) continue;
    try {
      return JSON.parse(line);
    } catch {
      // Not the JSON line: keep looking.
    }
  }
  return null;
}

/**
 * Runs a command to its end, measuring its wall time and, with GNU time, its peak RSS;
 * `options` may set where it runs, a time limit and a limit on open files.
 *
 * @example
 * ```ts
 * import { measure } from "./lib.ts";
 * const { seconds } = await measure(["true"]);
 * const limited = await measure(["sh", "-c", "ulimit -n"], { openFiles: 256, timeoutSeconds: 5 });
 * console.log(seconds, limited.lines); // [ "256" ]
 * ```
 */
export async function measure(
  command: string[],
  options: MeasureOptions = {},
): Promise<Measured> {
  const { cwd = ROOT, timeoutSeconds, openFiles } = options;
  let inner = command;
  if (timeoutSeconds !== undefined) {
    inner = ["timeout", "-s", "KILL", String(timeoutSeconds), ...inner];
  }
  if (openFiles !== undefined) {
    inner = ["sh", "-c", `ulimit -n ${openFiles} && exec "$@"`, "sh", ...inner];
  }
  const argv = hasGnuTime ? ["/usr/bin/time", "-f", "PEAK_KIB=%M", ...inner] : inner;
  const started = performance.now();
  const output = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - started) / 1000;
  const stderr = new TextDecoder().decode(output.stderr);
  const peak = /PEAK_KIB=(\d+)/.exec(stderr);
  return {
    code: output.code,
    lines: new TextDecoder().decode(output.stdout).split("\n").filter((line) => line !== ""),
    seconds,
    peakMiB: peak ? Number(peak[1]) / 1024 : NaN,
    stderr: stderr.replace(/^(Command (terminated|exited) .*\n)?PEAK_KIB=\d+\n?$/m, ""),
    // timeout(1) exits with 137 when it had to kill the command with SIGKILL.
    timedOut: timeoutSeconds !== undefined && output.code === 137,
  };
}

/** The seconds a poetry client reports on its last line (`Got N poems in T`). */
export function reportedSeconds(lines: string[]): number {
  const reported = parsePoemsLine(lines.at(-1) ?? "");
  if (reported === null) throw new Error(`no "Got N poems" line: ${lines.at(-1)}`);
  return reported.seconds;
}

/** The value below which `fraction` of the numbers fall. */
export function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}

/** Writes a poem of `mib` MiB (the project's poems, repeated) and returns its path. */
export async function makeBigPoem(mib: number): Promise<string> {
  const verse = await Deno.readFile(`${ROOT}/poetry/ecstasy.txt`);
  const poem = new Uint8Array(mib * 1024 * 1024);
  for (let offset = 0; offset < poem.length; offset += verse.length) {
    poem.set(verse.subarray(0, Math.min(verse.length, poem.length - offset)), offset);
  }
  const path = await Deno.makeTempFile({ prefix: "big-poem-", suffix: ".txt" });
  await Deno.writeFile(path, poem);
  return path;
}

/** One line saying what machine and runtime the figures come from. */
export function machine(): string {
  let cpu = "unknown CPU";
  try {
    const info = Deno.readTextFileSync("/proc/cpuinfo");
    cpu = /model name\s*:\s*(.*)/.exec(info)?.[1] ?? cpu;
  } catch {
    // Not Linux: keep the placeholder.
  }
  const cores = navigator.hardwareConcurrency;
  const memory = Math.round(Deno.systemMemoryInfo().total / 2 ** 30);
  return `${cpu}, ${cores} cores, ${memory} GiB; Deno ${Deno.version.deno}, V8 ${Deno.version.v8}`;
}

/**
 * The opening lines of a benchmark's Markdown section: its heading, then the machine,
 * the command that printed it and where it ran from.
 *
 * @example
 * ```ts
 * import { sectionOpening } from "./lib.ts";
 * console.log(sectionOpening("The reactor: timers", import.meta.url).join("\n"));
 * ```
 *
 * @param title what the section measures
 * @param moduleUrl the benchmark's `import.meta.url`
 * @returns the lines, ending with a blank one
 */
export function sectionOpening(title: string, moduleUrl: string): string[] {
  const script = new URL(moduleUrl).pathname.slice(ROOT.length + 1);
  return [
    `## ${title}`,
    "",
    `Machine: ${machine()}.`,
    `Command: \`deno run -A ${script}\``,
    `(run from ${ROOT === Deno.cwd() ? "the repository root" : ROOT}).`,
    "",
  ];
}

/**
 * One line saying whether a goal is met, in the form `bench/run.ts` collects into its
 * summary: `Goal: WHAT → FIGURE: **pass**` (or `**miss**`). Neither part may hold `→`.
 *
 * @example
 * ```ts
 * import { goalLine } from "./lib.ts";
 * console.log(goalLine("a would-block recv within 2 µs", "3.40 µs", false));
 * // Goal: a would-block recv within 2 µs → 3.40 µs: **miss**
 * ```
 */
export function goalLine(goal: string, figure: string, met: boolean): string {
  return `Goal: ${goal} → ${figure}: **${met ? "pass" : "miss"}**`;
}

/** Formats a number with a fixed count of decimals. */
export function fixed(value: number, decimals = 3): string {
  return Number.isFinite(value) ? value.toFixed(decimals) : "n/a";
}

/** Connected sockets, in pairs: `clients[i]` is connected to `servers[i]`. */
export interface Pairs {
  /** The connecting ends. */
  clients: Socket[];
  /** The accepted ends. */
  servers: Socket[];
  /** Closes them all, and the listener. */
  close(): void;
}

/**
 * Opens `count` loopback connections through one listener of our socket layer.
 *
 * @example
 * ```ts
 * import { openConnectedPairs } from "./lib.ts";
 * const pairs = openConnectedPairs(10);
 * pairs.servers[0].sendAll(new Uint8Array([1]));
 * console.log(pairs.clients[0].recv(1));
 * pairs.close();
 * ```
 */
export function openConnectedPairs(count: number): Pairs {
  const listener = new Socket();
  listener.bind(["127.0.0.1", 0]);
  listener.listen(count);
  const clients: Socket[] = [];
  const servers: Socket[] = [];
  for (let index = 0; index < count; index++) {
    const client = new Socket();
    client.connect(listener.getSockName());
    clients.push(client);
    servers.push(listener.accept()[0]);
  }
  return {
    clients,
    servers,
    close() {
      for (const socket of [...clients, ...servers, listener]) socket.close();
    },
  };
}

/**
 * A reader that is never ready (its peer never sends), for measuring a reactor that
 * watches many descriptors and has nothing to do.
 *
 * @example
 * ```ts
 * import { IdleReader } from "./lib.ts";
 * import { socketPair } from "../lib/socket/mod.ts";
 * const [quiet] = socketPair();
 * const reader = new IdleReader(quiet); // reactor.addReader(reader)
 * ```
 */
export class IdleReader implements IReadDescriptor {
  /** @param socket the socket watched */
  constructor(readonly socket: Socket) {}
  /** @returns the socket's descriptor */
  fileno(): number {
    return this.socket.fileno();
  }
  /** Never expected: throws. */
  doRead(): void {
    throw new Error("an idle reader was called");
  }
  /** Nothing to clean up. */
  connectionLost(): void {}
  /** @returns "IdleReader" */
  logPrefix(): string {
    return "IdleReader";
  }
}
