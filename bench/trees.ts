/**
 * Comparing two commits of the project: a copy of a commit's whole tree (`git archive`),
 * `deno run` inside a copy, a copy's own slow poetry server and a download by one of its
 * clients, a table of runs, for bench/before_after_bench.ts and the profiles in
 * bench/profile/. Nothing
 * here loads the project's own lib/: each copy runs its own code, in its own processes.
 *
 * @example
 * ```ts ignore
 * import { downloadSeconds, startPoemServer, treeCopy } from "./trees.ts";
 * await treeCopy("804ef49", "/tmp/before");
 * const server = await startPoemServer("/tmp/before", "/tmp/poem.txt");
 * console.log(await downloadSeconds("/tmp/before", "blocking-client/get-poetry.ts", server.port, 1));
 * await server.stop();
 * ```
 *
 * @module
 */

import { parsePoemsLine } from "../tools/client_output.ts";
import { ROOT } from "../tools/process.ts";
import { median } from "./measure.ts";

const decoder = new TextDecoder();

/**
 * Runs `git -C ROOT ARGS` and returns its output, trimmed; throws with git's message.
 *
 * @example
 * ```ts
 * import { git } from "./trees.ts";
 * console.log(await git("rev-parse", "--short", "HEAD")); // 2c0ad89, say
 * ```
 */
export async function git(...args: string[]): Promise<string> {
  const output = await new Deno.Command("git", { args: ["-C", ROOT, ...args], stderr: "piped" })
    .output();
  if (!output.success) throw new Error(`git ${args.join(" ")}: ${decoder.decode(output.stderr)}`);
  return decoder.decode(output.stdout).trim();
}

/**
 * Extracts the tree of `commit` (or only `paths` of it) into `directory`, which it makes.
 *
 * @example
 * ```ts ignore
 * import { treeCopy } from "./trees.ts";
 * await treeCopy("HEAD", "/tmp/after", ["lib"]); // /tmp/after/lib/...
 * ```
 */
export async function treeCopy(
  commit: string,
  directory: string,
  paths: string[] = [],
): Promise<void> {
  await Deno.mkdir(directory);
  const output = await new Deno.Command("sh", {
    args: [
      "-c",
      'root="$1" commit="$2" directory="$3"; shift 3; ' +
      'git -C "$root" archive "$commit" "$@" | tar -x -C "$directory"',
      "sh",
      ROOT,
      commit,
      directory,
      ...paths,
    ],
    stderr: "piped",
  }).output();
  if (!output.success) throw new Error(`git archive ${commit}: ${decoder.decode(output.stderr)}`);
}

/**
 * Runs `deno run ARGS` in `cwd` to its end and returns its stdout lines; a non-zero exit
 * is an error with the first lines of its stderr.
 *
 * @example
 * ```ts ignore
 * import { denoRun } from "./trees.ts";
 * const lines = await denoRun("/tmp/before", ["-N", "-R", "blocking-client/get-poetry.ts", "10000"]);
 * ```
 */
export async function denoRun(cwd: string, args: string[]): Promise<string[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...args],
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const lines = decoder.decode(output.stdout).split("\n").filter((line) => line !== "");
  if (!output.success) {
    throw new Error(
      `deno run ${args.join(" ")} (in ${cwd}): exit ${output.code}: ` +
        decoder.decode(output.stderr).trim().split("\n").slice(0, 3).join(" / "),
    );
  }
  return lines;
}

/** A copy's slow poetry server at full speed, and how to stop it. */
export interface PoemServer {
  /** The port it listens on (127.0.0.1). */
  port: number;
  /** Ends it and waits for it. */
  stop(): Promise<void>;
}

/**
 * Starts the copy's own `blocking-server/slowpoetry.ts --delay 0 --num-bytes 65536` on
 * `poem`, on a free port. Its stdout (a line per chunk sent) is read to the end as it
 * comes, so that a full pipe never holds it up.
 *
 * @example
 * ```ts ignore
 * import { startPoemServer } from "./trees.ts";
 * const server = await startPoemServer("/tmp/after", "/tmp/poem.txt");
 * console.log(server.port);
 * await server.stop();
 * ```
 */
export async function startPoemServer(root: string, poem: string): Promise<PoemServer> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-N",
      "-R",
      "blocking-server/slowpoetry.ts",
      "--port",
      "0",
      "--delay",
      "0",
      "--num-bytes",
      "65536",
      poem,
    ],
    cwd: root,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  const { promise: port, resolve, reject } = Promise.withResolvers<number>();
  const reading = (async () => {
    let pending = "";
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
      pending += text;
      const match = /on port (\d+)\./.exec(pending);
      if (match) resolve(Number(match[1]));
      if (pending.length > 4096) pending = pending.slice(-256);
    }
    reject(new Error(`the server in ${root} ended before saying its port`));
  })();
  const timer = setTimeout(() => reject(new Error(`no port from the server in ${root}`)), 20_000);
  try {
    return {
      port: await port,
      async stop() {
        child.kill("SIGTERM");
        await child.status;
        await reading;
      },
    };
  } catch (error) {
    child.kill("SIGKILL");
    await child.status;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One download by a copy's poetry client (`client`, a path from the copy's root) from
 * 127.0.0.1:`port`: checks that it got the whole poem of `mib` MiB, and returns the time
 * the client itself reports (`Got 1 poems in 0:00:00.612345`).
 *
 * @example
 * ```ts ignore
 * import { downloadSeconds } from "./trees.ts";
 * console.log(await downloadSeconds("/tmp/after", "async-client/get-poetry.ts", 10000, 256));
 * ```
 */
export async function downloadSeconds(
  root: string,
  client: string,
  port: number,
  mib: number,
): Promise<number> {
  const size = mib * 1024 * 1024;
  const output = await denoRun(root, ["-N", "-R", client, String(port)]);
  // The blocking client says "Task 1: got N bytes of poetry from ...", the async one
  // "Task 1: N bytes of poetry": either way, all the poem's bytes.
  const whole = new RegExp(`^Task 1: (got )?${size} bytes of poetry`);
  const reported = parsePoemsLine(output.at(-1) ?? "");
  if (!output.some((line) => whole.test(line)) || reported === null) {
    throw new Error(`${client} in ${root}: not ${size} bytes: ${output.slice(-2).join(" / ")}`);
  }
  return reported.seconds;
}

/**
 * The load average over the last minute, from /proc/loadavg (NaN where there is none).
 *
 * @example
 * ```ts
 * import { loadAverage } from "./trees.ts";
 * console.log(loadAverage()); // 1.65, say
 * ```
 */
export function loadAverage(): number {
  try {
    return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
  } catch {
    return NaN;
  }
}

/**
 * The runs of each copy compared, as Markdown table lines: `| WHAT | median | best | runs |`,
 * a row per name, in the map's order.
 *
 * @example
 * ```ts
 * import { runsTable } from "./trees.ts";
 * const figures = new Map([["before", [1.2, 1.1, 1.3]], ["after", [1.0, 1.1, 0.9]]]);
 * console.log(runsTable("copy", figures, 2).join("\n"));
 * // | copy | median | best | runs |
 * // |---|---|---|---|
 * // | before | 1.20 | 1.10 | 1.20, 1.10, 1.30 |
 * // | after | 1.00 | 0.90 | 1.00, 1.10, 0.90 |
 * ```
 */
export function runsTable(
  what: string,
  figures: Map<string, number[]>,
  decimals: number,
): string[] {
  const lines = [`| ${what} | median | best | runs |`, "|---|---|---|---|"];
  for (const [name, values] of figures) {
    lines.push(
      `| ${name} | ${median(values).toFixed(decimals)} | ${
        Math.min(...values).toFixed(decimals)
      } | ${values.map((value) => value.toFixed(decimals)).join(", ")} |`,
    );
  }
  return lines;
}
