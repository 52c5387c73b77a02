/**
 * An in-process trace collector: tracing on while a test's body runs, the events kept.
 *
 * @example
 * ```ts
 * import { traced } from "./traced.ts";
 * const events = await traced(() => {}, "socket");
 * console.log(events.length); // 0
 * ```
 * @module
 */

import { startTracing, stopTracing, type TraceEvent } from "../../lib/trace/mod.ts";
import { parseTrace } from "../../tools/trace/read.ts";

/**
 * Runs `body` with tracing on, and gives what it recorded.
 *
 * @param body what to trace
 * @param cat only events of this category (`socket`, `reactor`, ...), when given
 * @returns the events recorded while `body` ran, in order
 */
export async function traced(
  body: () => void | Promise<void>,
  cat?: string,
): Promise<TraceEvent[]> {
  let text = "[\n";
  startTracing((chunk) => text += chunk);
  try {
    await body();
  } finally {
    stopTracing();
  }
  const events = parseTrace(text);
  return cat === undefined ? events : events.filter((event) => event.cat === cat);
}
