/**
 * Running the lesson scripts as child processes, for the tests and the tools
 * (the tour `deno task demo`, `deno task servers`, the exercise checker):
 * spawning a script with `deno run`, reading its stdout line by line with the
 * time each line arrived, and starting slow poetry servers, on free ports or
 * the article's.
 *
 * @example
 * ```ts
 * import { runScript, startServers } from "./process.ts";
 *
 * const servers = await startServers([{ poetryFile: "poetry/science.txt", delay: 0.01 }]);
 * try {
 *   const result = await runScript("blocking-client/get-poetry.ts", [String(servers[0].port)]);
 *   console.log(result.code, result.lines.map((line) => line.text));
 * } finally {
 *   await Promise.all(servers.map((server) => server.stop()));
 * }
 * ```
 *
 * @module
 */

import { parseNumber } from "../lib/cli.ts";

/** The repository's root directory, as a path ending without a slash. */
export const ROOT: string = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/**
 * The absolute path of a file of the repository.
 *
 * @example
 * ```ts
 * import { repoPath } from "./process.ts";
 * const poem = Deno.readFileSync(repoPath("poetry/science.txt"));
 * ```
 *
 * @param relative the path from the repository's root
 * @returns the absolute path
 */
export function repoPath(relative: string): string {
  return `${ROOT}/${relative}`;
}

/**
 * A port on 127.0.0.1 where nothing listens (it was free a moment ago): connecting to
 * it is refused.
 *
 * @example
 * ```ts
 * import { closedPort } from "./process.ts";
 * const port = closedPort();
 * ```
 *
 * @returns the port
 */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/**
 * A path the user gave, as an absolute path: as it is when absolute, else from the
 * directory they ran the task in ({@linkcode callerDirectory}).
 *
 * @example
 * ```ts
 * import { fromCaller } from "./process.ts";
 * console.log(fromCaller("/tmp/trace.html")); // /tmp/trace.html
 * ```
 *
 * @param path the user's path
 * @returns an absolute path
 */
export function fromCaller(path: string): string {
  return path.startsWith("/") ? path : `${callerDirectory()}/${path}`;
}

/**
 * The directory `deno task` was started from: it runs tasks from the repository's
 * root and says where the user was in `INIT_CWD`. The tools resolve the user's
 * relative paths (a script, an output file) from here. Without leave to read the
 * variable, or outside `deno task`, the current directory.
 *
 * @example
 * ```ts
 * import { callerDirectory } from "./process.ts";
 * const page = `${callerDirectory()}/trace.html`;
 * ```
 *
 * @returns an absolute directory
 */
export function callerDirectory(): string {
  try {
    return Deno.env.get("INIT_CWD") ?? Deno.cwd();
  } catch {
    return Deno.cwd(); // no permission to read it: assume the root
  }
}

/**
 * A path as the repository's root sees it: relative when it lies inside, as it was
 * otherwise ({@linkcode repoPath} the other way).
 *
 * @example
 * ```ts
 * import { fromRoot, repoPath } from "./process.ts";
 * console.log(fromRoot(repoPath("poetry/science.txt"))); // poetry/science.txt
 * console.log(fromRoot("/tmp/mine.ts")); // /tmp/mine.ts
 * ```
 *
 * @param path an absolute path
 * @returns the path from the root, or `path` itself
 */
export function fromRoot(path: string): string {
  return path.startsWith(`${ROOT}/`) ? path.slice(ROOT.length + 1) : path;
}

/**
 * One line of a child's output and when it arrived.
 *
 * @example
 * ```ts
 * import type { TimedLine } from "./process.ts";
 * const line: TimedLine = { text: "Sending 10 bytes", at: 12.5 };
 * ```
 */
export interface TimedLine {
  /** The line, without its newline. */
  text: string;
  /** Milliseconds from the child's start to the line's arrival. */
  at: number;
}

/**
 * How a child ended.
 *
 * @example
 * ```ts
 * import type { Outcome } from "./process.ts";
 * const ok = (outcome: Outcome) => outcome.code === 0 && outcome.stderr === "";
 * ```
 */
export interface Outcome {
  /** The exit status (128 + N when killed by signal N). */
  code: number;
  /** The signal that killed it, if one did. */
  signal: Deno.Signal | null;
  /** Every stdout line, with its arrival time. */
  lines: TimedLine[];
  /** All of stderr. */
  stderr: string;
  /** Milliseconds from the start to the exit. */
  elapsedMs: number;
}

/** Options of a {@linkcode ScriptProcess}. */
export interface ScriptOptions {
  /** Called with each stdout line as it arrives. */
  onLine?: (line: TimedLine) => void;
  /** Deno's permission flags for the script; `-N -R` when absent. */
  permissions?: string[];
  /** A lower limit on open files (`ulimit -n`) for the script, set through `sh`. */
  openFilesLimit?: number;
  /** More environment variables for the script (the trace file's name, say). */
  env?: Record<string, string>;
}

/** A `deno run` of one lesson script, whose stdout is read as it arrives. */
export class ScriptProcess {
  /** The stdout lines read so far. */
  readonly lines: TimedLine[] = [];
  readonly #child: Deno.ChildProcess;
  /** `performance.now()` when the child was spawned: a line arrived at `startedAt + at`. */
  readonly startedAt: number;
  readonly #stdoutDone: Promise<void>;
  readonly #stderr: Promise<string>;
  #waiters: Array<() => void> = [];
  readonly #onLine?: (line: TimedLine) => void;
  #stdoutEnded = false;

  /**
   * Starts `deno run -N -R SCRIPT ARGS...` in the repository's root.
   *
   * @example
   * ```ts
   * import { ScriptProcess } from "./process.ts";
   * const server = new ScriptProcess("blocking-server/slowpoetry.ts", ["poetry/science.txt"]);
   * await server.waitForLine((line) => line.startsWith("Serving"));
   * server.kill();
   * await server.finished();
   * ```
   *
   * @param script the script's path from the repository's root
   * @param args its arguments
   */
  constructor(script: string, args: string[], options: ScriptOptions = {}) {
    this.startedAt = performance.now();
    this.#onLine = options.onLine;
    const denoArgs = ["run", ...(options.permissions ?? ["-N", "-R"]), script, ...args];
    const limit = options.openFilesLimit;
    // With a limit, `sh` lowers it, then becomes Deno: `$0` is Deno, `$@` its arguments.
    const [program, programArgs] = limit === undefined
      ? [Deno.execPath(), denoArgs]
      : ["sh", ["-c", `ulimit -n ${limit} && exec "$0" "$@"`, Deno.execPath(), ...denoArgs]];
    this.#child = new Deno.Command(program, {
      args: programArgs,
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { ...options.env, NO_COLOR: "1" },
    }).spawn();
    this.#stdoutDone = this.#readStdout();
    this.#stderr = new Response(this.#child.stderr).text();
  }

  async #readStdout(): Promise<void> {
    let pending = "";
    const decoder = new TextDecoder();
    for await (const bytes of this.#child.stdout) {
      const at = performance.now() - this.startedAt;
      pending += decoder.decode(bytes, { stream: true });
      const parts = pending.split("\n");
      pending = parts.pop() ?? "";
      for (const text of parts) this.#add({ text, at });
      this.#wake();
    }
    pending += decoder.decode();
    if (pending !== "") this.#add({ text: pending, at: performance.now() - this.startedAt });
    this.#stdoutEnded = true;
    this.#wake();
  }

  #add(line: TimedLine): void {
    this.lines.push(line);
    this.#onLine?.(line);
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** The process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /**
   * Waits until a stdout line (already read or still to come) satisfies
   * `test`, and returns it.
   *
   * @example
   * ```ts
   * import { ScriptProcess } from "./process.ts";
   * const server = new ScriptProcess("blocking-server/slowpoetry.ts", ["poetry/science.txt"]);
   * const line = await server.waitForLine((text) => text.startsWith("Serving"));
   * ```
   *
   * @param test what the line must satisfy
   * @param timeoutMs how long to wait before failing
   * @returns the first line that satisfies `test`
   * @throws {Error} when stdout ends or the time runs out first
   */
  async waitForLine(test: (text: string) => boolean, timeoutMs = 10_000): Promise<TimedLine> {
    const deadline = performance.now() + timeoutMs;
    let checked = 0;
    while (true) {
      for (; checked < this.lines.length; checked++) {
        if (test(this.lines[checked].text)) return this.lines[checked];
      }
      if (this.#stdoutEnded) {
        throw new Error(`stdout ended without the line; stderr: ${await this.#stderr}`);
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new Error(`no such line within ${timeoutMs} ms: ${JSON.stringify(this.lines)}`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /**
   * Sends a signal (SIGTERM unless told); harmless if the child has exited.
   *
   * @example
   * ```ts
   * import { ScriptProcess } from "./process.ts";
   * const server = new ScriptProcess("blocking-server/slowpoetry.ts", ["poetry/science.txt"]);
   * server.kill("SIGINT");
   * ```
   *
   * @param signal the signal to send
   */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      this.#child.kill(signal);
    } catch {
      // it has exited already
    }
  }

  /**
   * Waits for the child to exit and for all its output.
   *
   * @example
   * ```ts
   * import { ScriptProcess } from "./process.ts";
   * const client = new ScriptProcess("blocking-client/get-poetry.ts", []);
   * const outcome = await client.finished();
   * ```
   *
   * @param timeoutMs how long to wait before killing it (SIGKILL) and failing
   * @returns how it ended
   */
  async finished(timeoutMs = 60_000): Promise<Outcome> {
    const { timedOut, ...outcome } = await this.finishedWithin(timeoutMs);
    if (timedOut) throw new Error(`still running after ${timeoutMs} ms; stderr: ${outcome.stderr}`);
    return outcome;
  }

  /**
   * Waits for the child to exit, or kills it (SIGKILL) once `timeoutMs` have passed, and
   * says which it was; never throws.
   *
   * @example
   * ```ts
   * import { ScriptProcess } from "./process.ts";
   * const client = new ScriptProcess("basic/simple.ts", []);
   * const outcome = await client.finishedWithin(1000);
   * console.log(outcome.timedOut, outcome.signal); // true SIGKILL: it runs until stopped
   * ```
   *
   * @param timeoutMs how long to wait before killing it
   * @returns how it ended, and whether it had to be killed
   */
  async finishedWithin(timeoutMs: number): Promise<Outcome & { timedOut: boolean }> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let timedOut = false;
    const status = await Promise.race([
      this.#child.status,
      new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), timeoutMs)),
    ]);
    clearTimeout(timer);
    if (status === null) {
      timedOut = true;
      this.kill("SIGKILL");
    }
    const finalStatus = await this.#child.status;
    const elapsedMs = performance.now() - this.startedAt;
    await this.#stdoutDone;
    return {
      code: finalStatus.code,
      signal: finalStatus.signal,
      lines: this.lines,
      stderr: await this.#stderr,
      elapsedMs,
      timedOut,
    };
  }
}

/**
 * Runs a script to its end.
 *
 * @example
 * ```ts
 * import { runScript } from "./process.ts";
 * const outcome = await runScript("blocking-client/get-poetry.ts", ["--help"]);
 * ```
 *
 * @param script the script's path from the repository's root
 * @param args its arguments
 * @param timeoutMs how long it may take
 * @returns how it ended
 */
export function runScript(script: string, args: string[], timeoutMs = 60_000): Promise<Outcome> {
  return new ScriptProcess(script, args).finished(timeoutMs);
}

/**
 * How to start one slow poetry server.
 *
 * @example
 * ```ts
 * import type { ServerSpec } from "./process.ts";
 * const spec: ServerSpec = { poetryFile: "poetry/ecstasy.txt", numBytes: 30, delay: 0.01 };
 * ```
 */
export interface ServerSpec {
  /** The poem, from the repository's root or absolute. */
  poetryFile: string;
  /** Seconds after each chunk (`--delay`); the server's default when absent. */
  delay?: number;
  /** Bytes per chunk (`--num-bytes`); the server's default when absent. */
  numBytes?: number;
  /** The port to listen on; 0 (a free port) when absent. */
  port?: number;
  /** Called with each line the server prints, as it arrives. */
  onLine?: (line: TimedLine) => void;
}

/**
 * A running slow poetry server.
 *
 * @example
 * ```ts
 * import type { RunningServer } from "./process.ts";
 * const address = (server: RunningServer) => `127.0.0.1:${server.port}`;
 * ```
 */
export interface RunningServer {
  /** The port it printed in `Serving FILE on port N.`. */
  port: number;
  /** Its process. */
  process: ScriptProcess;
  /** Kills it (SIGTERM) and waits for it to exit. */
  stop(): Promise<Outcome>;
}

/**
 * Starts slow poetry servers on 127.0.0.1 and free ports, and waits until
 * each has said which port it serves on.
 *
 * @example
 * ```ts
 * import { startServers } from "./process.ts";
 * const servers = await startServers([
 *   { poetryFile: "poetry/ecstasy.txt", numBytes: 30, delay: 0.01 },
 *   { poetryFile: "poetry/fascination.txt", delay: 0.01 },
 * ]);
 * const ports = servers.map((server) => String(server.port));
 * await Promise.all(servers.map((server) => server.stop()));
 * ```
 *
 * @param specs one per server
 * @returns the servers, in the order given
 */
export async function startServers(specs: ServerSpec[]): Promise<RunningServer[]> {
  const processes = specs.map((spec) => {
    const args = ["--iface", "127.0.0.1", "--port", String(spec.port ?? 0)];
    if (spec.delay !== undefined) args.push("--delay", String(spec.delay));
    if (spec.numBytes !== undefined) args.push("--num-bytes", String(spec.numBytes));
    return new ScriptProcess("blocking-server/slowpoetry.ts", [...args, spec.poetryFile], {
      onLine: spec.onLine,
    });
  });
  const servers: RunningServer[] = [];
  try {
    for (const [index, process] of processes.entries()) {
      const line = await process.waitForLine((text) => text.startsWith("Serving ")).catch(
        async () => {
          process.kill("SIGKILL");
          const { stderr } = await process.finished();
          const why = stderr.trim().split("\n")[0] || "it exited";
          throw new Error(`the server of ${specs[index].poetryFile} did not start: ${why}`);
        },
      );
      const match = /^Serving (.+) on port (\d+)\.$/.exec(line.text);
      if (match === null) throw new Error(`unexpected first line: ${line.text}`);
      servers.push({
        port: Number(match[2]),
        process,
        stop: () => {
          process.kill();
          return process.finished();
        },
      });
    }
  } catch (error) {
    for (const process of processes) process.kill("SIGKILL");
    await Promise.allSettled(processes.map((process) => process.finished()));
    throw error;
  }
  return servers;
}

/**
 * The three slow poetry servers of the article's Part 2, in its order: ecstasy 30 bytes
 * at a time, fascination and science 10 bytes at a time.
 *
 * @example
 * ```ts
 * import { ARTICLE_POEMS } from "./process.ts";
 * for (const { poetryFile, numBytes } of ARTICLE_POEMS) console.log(poetryFile, numBytes);
 * ```
 */
export const ARTICLE_POEMS: ReadonlyArray<{ poetryFile: string; numBytes: number }> = [
  { poetryFile: "poetry/ecstasy.txt", numBytes: 30 },
  { poetryFile: "poetry/fascination.txt", numBytes: 10 },
  { poetryFile: "poetry/science.txt", numBytes: 10 },
];

/** The article's servers' pause after each chunk, in seconds. */
const ARTICLE_DELAY = 0.1;

/**
 * The specs of the article's three servers, their delay multiplied by `scale`, on ports
 * `basePort`, `basePort + 1` and `basePort + 2` (free ports when `basePort` is 0).
 *
 * @example
 * ```ts
 * import { articleServers, startServers } from "./process.ts";
 * const servers = await startServers(articleServers({ scale: 0.1, basePort: 0 }));
 * await Promise.all(servers.map((server) => server.stop()));
 * ```
 *
 * @param settings `scale`: multiplies the 0.1 s delay; `basePort`: the first port, or 0
 * @returns one spec per server, in the article's order
 */
export function articleServers(settings: { scale: number; basePort: number }): ServerSpec[] {
  return ARTICLE_POEMS.map((poem, index) => ({
    ...poem,
    delay: Number((ARTICLE_DELAY * settings.scale).toPrecision(12)), // 0.01, not 0.010000000000000002
    port: settings.basePort === 0 ? 0 : settings.basePort + index,
  }));
}

/**
 * The `--fast` and `--scale F` options of the tools that start the article's servers
 * (`deno task demo`, `deno task servers`), for `parseCommandLine`; read them with
 * {@linkcode speedScaleOf}.
 *
 * @example
 * ```ts
 * import { parseCommandLine } from "../lib/cli.ts";
 * import { SPEED_OPTIONS, speedScaleOf } from "./process.ts";
 * const scale = parseCommandLine(["--fast"], {
 *   usage: "[--fast] [--scale F]",
 *   description: "Serves poems.",
 *   options: SPEED_OPTIONS,
 * }, ({ values }) => speedScaleOf(values)); // 0.1
 * ```
 */
export const SPEED_OPTIONS = {
  fast: { flag: true, help: "every delay ten times shorter (0.01 s)" },
  scale: { metavar: "F", help: "multiply every delay by F (--fast is 0.1)" },
} as const;

/**
 * What `--fast` and `--scale F` ask for: the factor for every delay (1 when neither is
 * given, 0.1 for `--fast`; `--scale` wins over `--fast`).
 *
 * @example
 * ```ts
 * import { speedScaleOf } from "./process.ts";
 * speedScaleOf({ fast: "true", scale: undefined }); // 0.1
 * speedScaleOf({ fast: undefined, scale: "0.5" }); // 0.5
 * ```
 *
 * @param values the options' values, as `parseCommandLine` gives them
 * @returns the factor
 * @throws {UsageError} when `--scale` is not a number of at least 0
 */
export function speedScaleOf(values: { fast?: string; scale?: string }): number {
  if (values.scale !== undefined) return parseNumber(values.scale, "--scale", { min: 0 });
  return values.fast ? 0.1 : 1;
}
