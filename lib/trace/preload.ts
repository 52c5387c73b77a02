/**
 * Turns tracing on for the whole program, before its main module runs:
 * `deno task trace` runs a script as
 * `deno run --preload lib/trace/preload.ts SCRIPT`, with the trace file's
 * path in the environment variable {@linkcode TRACE_FILE_VARIABLE}.
 *
 * The file gets `[` and then the events, one a line, each followed by a
 * comma: Chrome's JSON Array Format, which may stay unterminated when the
 * program is killed. An error that reaches the top and the program's exit are
 * recorded too, and everything kept is written before the program ends.
 *
 * @example
 * ```sh
 * TWISTED_TRACE_FILE=/tmp/t.json deno run -N -R --allow-env=TWISTED_TRACE_FILE \
 *   --allow-write=/tmp/t.json --preload lib/trace/preload.ts basic/countdown.ts
 * ```
 *
 * @module
 */

import { flushTrace, MAIN_LANE, startTracing, TRACE_FILE_VARIABLE, traceInstant } from "./mod.ts";
import { oneLine } from "./names.ts";

const path = Deno.env.get(TRACE_FILE_VARIABLE);
if (path !== undefined && path !== "") {
  const file = Deno.openSync(path, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  const write = (text: string): void => {
    const bytes = encoder.encode(text);
    let written = 0;
    while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
  };
  write("[\n");
  startTracing(write);
  const uncaught = (error: unknown): void => {
    traceInstant("uncaught", "process", MAIN_LANE, { error: oneLine(error) });
    flushTrace();
  };
  globalThis.addEventListener("error", (event) => uncaught((event as ErrorEvent).error));
  globalThis.addEventListener(
    "unhandledrejection",
    (event) => uncaught((event as PromiseRejectionEvent).reason),
  );
  globalThis.addEventListener("unload", () => {
    traceInstant("exit", "process", MAIN_LANE, { code: Deno.exitCode });
    flushTrace();
  });
}
