/**
 * Reading what the poetry clients print, for the programs that run them and check
 * the result: the timing exercise of Part 2, the tour (`deno task demo`), the
 * benchmarks and the tests. The clients themselves print with `lib/cli.ts`.
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

/**
 * Reads a duration printed the way Python prints a `datetime.timedelta` (and
 * `formatDuration` of `lib/cli.ts`): the inverse of that function.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./client_output.ts";
 * parseDuration("0:00:10.126361"); // 10.126361
 * parseDuration("1 day, 0:00:01"); // 86401
 * ```
 *
 * @param text the duration, such as `0:00:23.065661`
 * @returns seconds
 * @throws {Error} when `text` is not such a duration
 */
export function parseDuration(text: string): number {
  const match = /^(?:(-?\d+) days?, )?(\d+):(\d\d):(\d\d(?:\.\d+)?)$/.exec(text.trim());
  if (match === null) throw new Error(`not a duration: ${text}`);
  const [, days, hours, minutes, seconds] = match;
  return ((Number(days ?? 0) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 +
    Number(seconds);
}

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
