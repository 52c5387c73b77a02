/**
 * Running a script with tracing on, as a child process, and writing what it
 * recorded: the trace as Trace Event Format JSON (which Perfetto and
 * `chrome://tracing` open) and the page. Shared by `deno task trace`, the
 * tour and the tests.
 *
 * @example
 * ```ts ignore
 * import { runTraced } from "./run.ts";
 * const traced = await runTraced("basic/countdown.ts", [], { output: "piped" });
 * console.log(traced.code, traced.run.delayed.length);
 * ```
 *
 * @module
 */

import { laneOfFd, MAIN_LANE, TRACE_FILE_VARIABLE, type TraceEvent } from "../../lib/trace/mod.ts";
import { laneName, modelOfRun, readTrace, type RunModel } from "./read.ts";
import type { ProgramEnd } from "./account.ts";

/** The preload module that turns tracing on in the child, as an absolute path. */
export const PRELOAD_PATH: string = decodeURIComponent(
  new URL("../../lib/trace/preload.ts", import.meta.url).pathname,
);

/** A traced run of a script. */
export interface TracedRun extends ProgramEnd {
  /** The events recorded. */
  events: TraceEvent[];
  /** Their model. */
  run: RunModel;
  /** The child's stdout and stderr, when piped. */
  stdout: string;
  /** The child's stderr, when piped. */
  stderr: string;
}

/** How to run the child. */
export interface TracedRunOptions {
  /** `inherit`: the script's output passes through; `piped`: kept in the result. */
  output: "inherit" | "piped";
  /** Where the child writes its events (a new temporary file by default, removed after). */
  traceFile?: string;
  /** Called with the child once it started (tests interrupt it). */
  started?: (child: Deno.ChildProcess) => void;
  /** Forward Ctrl-C to the child and count the run as interrupted (the CLI does). */
  forwardInterrupt?: boolean;
}

/**
 * The `deno run` arguments that run `script` with tracing on, writing to
 * `traceFile`.
 *
 * @example
 * ```ts
 * import { tracedCommandArgs } from "./run.ts";
 * console.log(tracedCommandArgs("basic/hello.ts", [], "/tmp/t.json").includes("--preload")); // true
 * ```
 *
 * @param script the script's path
 * @param args its arguments
 * @param traceFile the trace file
 * @returns the arguments for `deno`
 */
export function tracedCommandArgs(script: string, args: string[], traceFile: string): string[] {
  return ["run", ...tracedPermissions(traceFile), script, ...args];
}

/**
 * The `deno run` flags of a traced script: the lessons' `-N -R`, leave to read the
 * variable naming the trace file and to write that file, and the preload. The child
 * needs the variable {@linkcode TRACE_FILE_VARIABLE} set to `traceFile` too.
 *
 * @example
 * ```ts
 * import { tracedPermissions } from "./run.ts";
 * console.log(tracedPermissions("/tmp/t.json").slice(0, 2)); // ["-N", "-R"]
 * ```
 *
 * @param traceFile the trace file
 * @returns the flags
 */
export function tracedPermissions(traceFile: string): string[] {
  return [
    "-N",
    "-R",
    `--allow-env=${TRACE_FILE_VARIABLE}`,
    `--allow-write=${traceFile}`,
    "--preload",
    PRELOAD_PATH,
  ];
}

/**
 * Run `script` with tracing on and read what it recorded. A Ctrl-C while it
 * runs (with `forwardInterrupt`) reaches the child once, and the run is
 * marked interrupted.
 *
 * @param script the script's path
 * @param args its arguments
 * @param options how to run it
 * @returns its exit, its events and their model
 */
export async function runTraced(
  script: string,
  args: string[],
  options: TracedRunOptions,
): Promise<TracedRun> {
  const traceFile = options.traceFile ?? await Deno.makeTempFile({ suffix: ".trace" });
  const child = new Deno.Command(Deno.execPath(), {
    args: tracedCommandArgs(script, args, traceFile),
    env: { [TRACE_FILE_VARIABLE]: traceFile },
    stdin: options.output === "inherit" ? "inherit" : "null",
    stdout: options.output,
    stderr: options.output,
  }).spawn();
  options.started?.(child);
  let interrupted = false;
  let forwardTimer: ReturnType<typeof setTimeout> | undefined;
  const onInterrupt = (): void => {
    if (interrupted) {
      // A second Ctrl-C: the child did not stop on the first.
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      return;
    }
    interrupted = true;
    // From a terminal, Ctrl-C reaches the child too; forward it only if the child is
    // still running a moment later, so a reactor does not get two (which crashes it).
    forwardTimer = setTimeout(() => {
      try {
        child.kill("SIGINT");
      } catch {
        // Already gone.
      }
    }, 300);
  };
  if (options.forwardInterrupt) Deno.addSignalListener("SIGINT", onInterrupt);
  const decoder = new TextDecoder();
  let stdout = "";
  let stderr = "";
  let status: Deno.CommandStatus;
  if (options.output === "piped") {
    const output = await child.output();
    stdout = decoder.decode(output.stdout);
    stderr = decoder.decode(output.stderr);
    status = output;
  } else {
    status = await child.status;
  }
  clearTimeout(forwardTimer);
  if (options.forwardInterrupt) Deno.removeSignalListener("SIGINT", onInterrupt);
  const events = readTrace(traceFile);
  if (options.traceFile === undefined) await Deno.remove(traceFile).catch(() => {});
  const code = status.signal === null ? status.code : 128 + signalNumber(status.signal);
  return {
    code,
    signal: status.signal,
    interrupted: interrupted || status.signal === "SIGINT",
    events,
    run: modelOfRun(events),
    stdout,
    stderr,
  };
}

function signalNumber(signal: Deno.Signal): number {
  const numbers: Partial<Record<Deno.Signal, number>> = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGQUIT: 3,
    SIGKILL: 9,
    SIGTERM: 15,
  };
  return numbers[signal] ?? 1;
}

/**
 * The trace as one Trace Event Format object: `{"traceEvents": [...]}`, the
 * events in time order, with `process_name` and `thread_name` metadata naming
 * the lanes (`main thread`, `fd 3: PoetrySocket (Task 1)`).
 *
 * @example
 * ```ts
 * import { traceEventFormat } from "./run.ts";
 * import { modelOfRun } from "./read.ts";
 * const json = JSON.parse(traceEventFormat([], modelOfRun([]), "hello.ts"));
 * console.log(json.traceEvents[0].name); // process_name
 * ```
 *
 * @param events the events
 * @param run their model (for the lanes' names)
 * @param name the program's name
 * @returns the JSON text
 */
export function traceEventFormat(
  events: readonly TraceEvent[],
  run: RunModel,
  name: string,
): string {
  const metadata: TraceEvent[] = [
    {
      name: "process_name",
      cat: "__metadata",
      ph: "M",
      ts: 0,
      pid: 1,
      tid: MAIN_LANE,
      args: { name },
    },
    {
      name: "thread_name",
      cat: "__metadata",
      ph: "M",
      ts: 0,
      pid: 1,
      tid: MAIN_LANE,
      args: { name: "main thread" },
    },
    ...run.sockets.map((lane): TraceEvent => ({
      name: "thread_name",
      cat: "__metadata",
      ph: "M",
      ts: 0,
      pid: 1,
      tid: laneOfFd(lane.fd),
      args: { name: laneName(lane) },
    })),
  ];
  const sorted = [...events].sort((a, b) => a.ts - b.ts);
  const lines = [...metadata, ...sorted].map((event) => JSON.stringify(event));
  return `{"traceEvents":[\n${lines.join(",\n")}\n],"displayTimeUnit":"ms"}\n`;
}
