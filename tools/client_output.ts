/**
 * Reading what the poetry clients print, for the programs that run them and check
 * the result: the timing exercise of Part 2, the tour (`deno task demo`), the
 * benchmarks and the tests. Durations are read back by `parseDuration` of
 * `lib/duration.ts`, next to the `formatDuration` the clients print them with.
 *
 * @example Reading a client's last line
 * ```ts
 * import { parsePoemsLine } from "./client_output.ts";
 *
 * const summary = parsePoemsLine("Got 3 poems in 0:00:23.065661");
 * console.log(summary?.poems, summary?.seconds); // 3 23.065661
 * ```
 *
 * @module
 */

import { parseDuration } from "../lib/duration.ts";

/**
 * Reads a poetry client's last line, `Got N poems in DURATION`.
 *
 * @example
 * ```ts
 * import { parsePoemsLine } from "./client_output.ts";
 * parsePoemsLine("Got 3 poems in 0:00:23.065661"); // { poems: 3, seconds: 23.065661 }
 * parsePoemsLine("Task 1 finished"); // null
 * ```
 *
 * @param line one line of a client's output
 * @returns the poems and seconds it reports, or null for another line
 */
export function parsePoemsLine(line: string): { poems: number; seconds: number } | null {
  const match = /^Got (\d+) poems in (.+)$/.exec(line);
  return match === null ? null : { poems: Number(match[1]), seconds: parseDuration(match[2]) };
}
