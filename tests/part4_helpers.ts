/**
 * Helpers of the Part 4 tests (tests/part4_test.ts, tests/part4_blocking_test.ts):
 * slow poetry servers and clients whose output lines carry times on one clock (this
 * process's `performance.now()`), so that a client's line can be compared with the
 * moment a server sent its last chunk; a poetry server that resets its connections
 * mid-poem; a port with no server; Python's timedelta format.
 *
 * @example
 * ```ts
 * import { spawnTimed, startTimedServers } from "./part4_helpers.ts";
 *
 * const servers = await startTimedServers([{ poetryFile: "poetry/science.txt", delay: 0.01 }]);
 * try {
 *   const client = spawnTimed("twisted-client/get-poetry.ts", [String(servers[0].port)]);
 *   const outcome = await client.process.finished();
 *   console.log(outcome.lines.map((line) => client.clock(line)));
 * } finally {
 *   await Promise.all(servers.map((server) => server.stop()));
 * }
 * ```
 *
 * @module
 */

import assert from "node:assert/strict";
import { withDeadline } from "./helpers/deadline.ts";
import {
  type Outcome,
  repoPath,
  ScriptProcess,
  type ServerSpec,
  startServers,
  type TimedLine,
} from "../tools/process.ts";

/** A child process whose lines can be put on this process's clock. */
export interface TimedScript {
  /** The process. */
  process: ScriptProcess;
  /** `performance.now()` when it was spawned. */
  startedAt: number;
  /** When one of its lines arrived, in this process's `performance.now()` milliseconds. */
  clock(line: TimedLine): number;
}

/**
 * Spawns `deno run -N -R SCRIPT ARGS`, noting when.
 *
 * @example
 * ```ts
 * import { spawnTimed } from "./part4_helpers.ts";
 * const client = spawnTimed("twisted-client/get-poetry.ts", ["--help"]);
 * await client.process.finished();
 * ```
 *
 * @param script the script, from the repository's root
 * @param args its arguments
 * @returns the process and its clock
 */
export function spawnTimed(script: string, args: string[]): TimedScript {
  return timed(new ScriptProcess(script, args));
}

/** A process with its clock. */
function timed(process: ScriptProcess): TimedScript {
  const startedAt = process.startedAt;
  return { process, startedAt, clock: (line) => startedAt + line.at };
}

/**
 * A slow poetry server started by {@linkcode startTimedServers}.
 *
 * @example
 * ```ts
 * import type { TimedServer } from "./part4_helpers.ts";
 * const lastSend = (server: TimedServer) =>
 *   server.clock(server.process.lines.findLast((line) => line.text.startsWith("Sending "))!);
 * ```
 */
export interface TimedServer extends TimedScript {
  /** The port it serves on. */
  port: number;
  /** Kills it and waits for its end. */
  stop(): Promise<Outcome>;
}

/**
 * Starts `blocking-server/slowpoetry.ts` servers on 127.0.0.1 and free ports.
 *
 * @example
 * ```ts
 * import { startTimedServers } from "./part4_helpers.ts";
 * const [server] = await startTimedServers([{ poetryFile: "poetry/science.txt", delay: 0 }]);
 * await server.stop();
 * ```
 *
 * @param specs one per server
 * @returns the servers, once each has printed its port
 */
export async function startTimedServers(specs: ServerSpec[]): Promise<TimedServer[]> {
  const servers = await startServers(specs);
  return servers.map((server) => ({ ...server, ...timed(server.process) }));
}

/**
 * When a server printed its last `Sending N bytes` line (just before sending its last
 * chunk), on this process's clock.
 *
 * @example
 * ```ts
 * import { lastSendAt, startTimedServers } from "./part4_helpers.ts";
 * const [server] = await startTimedServers([{ poetryFile: "poetry/science.txt", delay: 0 }]);
 * // ... a client reads the poem ...
 * console.log(lastSendAt(server));
 * await server.stop();
 * ```
 *
 * @param server the server
 * @returns milliseconds, `performance.now()` style
 */
export function lastSendAt(server: TimedServer): number {
  const sends = server.process.lines.filter((line) => line.text.startsWith("Sending "));
  assert.ok(sends.length > 0, "the server sent nothing");
  return server.clock(sends[sends.length - 1]);
}

/** Whether `python3` can be run here (it runs the resetting server). */
export const HAS_PYTHON: boolean = (() => {
  try {
    return new Deno.Command("python3", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

/**
 * A server (tests/fixtures/part4_reset_server.py) that sends the first bytes of a
 * poem, waits, then resets the connection (RST, not FIN).
 *
 * @example
 * ```ts
 * import { startResetServer } from "./part4_helpers.ts";
 * const server = await startResetServer("poetry/ecstasy.txt", 1000, 0.1);
 * await server.stop();
 * ```
 */
export interface ResetServer {
  /** The port it serves on. */
  port: number;
  /** Kills it and waits for its end. */
  stop(): Promise<void>;
}

/**
 * Starts the resetting server on 127.0.0.1 and a free port.
 *
 * @example
 * ```ts
 * import { startResetServer } from "./part4_helpers.ts";
 * const server = await startResetServer("poetry/ecstasy.txt", 1000, 0.1);
 * await server.stop();
 * ```
 *
 * @param poetryFile the poem, from the repository's root
 * @param bytes how many of its bytes to send before the reset
 * @param pause seconds between the last byte and the reset
 * @returns the server, once it listens
 */
export async function startResetServer(
  poetryFile: string,
  bytes: number,
  pause: number,
): Promise<ResetServer> {
  const child = new Deno.Command("python3", {
    args: [
      repoPath("tests/fixtures/part4_reset_server.py"),
      repoPath(poetryFile),
      String(bytes),
      String(pause),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const readPort = async (): Promise<number> => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        await child.status;
        throw new Error(`the resetting server did not start: ${JSON.stringify(text)}`);
      }
      text += value;
      const match = /Serving on port (\d+)\./.exec(text);
      if (match) return Number(match[1]);
    }
  };
  const port = await withDeadline(readPort(), 10_000, "the resetting server's start").catch(
    (error) => {
      child.kill("SIGKILL");
      throw error;
    },
  );
  const drained = (async () => {
    while (!(await reader.read()).done) {
      // its later lines are not needed
    }
  })();
  return {
    port,
    stop: async () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // gone already
      }
      await child.status;
      await drained;
    },
  };
}

/** A duration as Python prints a timedelta (`0:00:01.083567`), as a regular expression source. */
export const DURATION = String.raw`\d+:\d\d:\d\d(?:\.\d{6})?`;

/**
 * How long a slow poetry server takes over one poem: one `delay` after each chunk.
 *
 * @example
 * ```ts
 * import { serverSeconds } from "./part4_helpers.ts";
 * console.log(serverSeconds({ poetryFile: "poetry/ecstasy.txt", numBytes: 30, delay: 0.01 })); // 1.01
 * ```
 *
 * @param spec the server's settings (10 bytes and 0.1 s when absent, its defaults)
 * @returns seconds
 */
export function serverSeconds(spec: ServerSpec): number {
  const size = Deno.statSync(repoPath(spec.poetryFile)).size;
  return Math.ceil(size / (spec.numBytes ?? 10)) * (spec.delay ?? 0.1);
}

/**
 * The characters (code points) of a poem file, decoded as UTF-8.
 *
 * @example
 * ```ts
 * import { charactersOf } from "./part4_helpers.ts";
 * console.log(charactersOf("poetry/science.txt"));
 * ```
 *
 * @param poetryFile the poem, from the repository's root
 * @param bytes only its first `bytes` bytes (an unfinished character counts as one U+FFFD)
 * @returns the count
 */
export function charactersOf(poetryFile: string, bytes?: number): number {
  const all = Deno.readFileSync(repoPath(poetryFile));
  return [...new TextDecoder().decode(all.subarray(0, bytes))].length;
}
