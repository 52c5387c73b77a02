/**
 * Durations as the clients print them, the way Python prints a `datetime.timedelta`
 * (`0:00:10.126361`), read back, and measured with a stopwatch.
 *
 * @example Timing a download
 * ```ts
 * import { formatDuration, startStopwatch } from "./duration.ts";
 * const elapsed = startStopwatch();
 * // ... the download ...
 * console.log(`Got 1 poems in ${formatDuration(elapsed())}`);
 * ```
 *
 * @module
 */

/**
 * Formats a duration as Python prints a `datetime.timedelta`: `H:MM:SS`,
 * then `.ffffff` when the microseconds are not zero, after `N day(s), ` when
 * there are whole days. The duration is first rounded to the microsecond
 * (half to even, as Python does).
 * Negative durations come out as Python's do (`-1 day, 23:59:59`).
 *
 * @example
 * ```ts
 * import { formatDuration } from "./duration.ts";
 * formatDuration(10.126361); // "0:00:10.126361"
 * formatDuration(3723); // "1:02:03"
 * formatDuration(93784); // "1 day, 2:03:04"
 * ```
 *
 * @param seconds the duration in seconds
 * @returns the duration as Python would print it
 */
export function formatDuration(seconds: number): string {
  const MICROSECONDS_PER_DAY = 86_400_000_000;
  const exact = seconds * 1e6;
  let total = Math.round(exact); // halves go up here; Python sends them to the even neighbour
  if (total - exact === 0.5 && total % 2 !== 0) total -= 1;
  const days = Math.floor(total / MICROSECONDS_PER_DAY);
  const rest = total - days * MICROSECONDS_PER_DAY; // 0 <= rest < one day
  const microseconds = rest % 1_000_000;
  const wholeSeconds = (rest - microseconds) / 1_000_000;
  const hh = Math.floor(wholeSeconds / 3600);
  const mm = Math.floor(wholeSeconds / 60) % 60;
  const ss = wholeSeconds % 60;
  let text = `${hh}:${String(mm).padStart(2, "0")}:${String(ss).padStart(2, "0")}`;
  if (days !== 0) text = `${days} day${Math.abs(days) === 1 ? "" : "s"}, ${text}`;
  if (microseconds !== 0) text += `.${String(microseconds).padStart(6, "0")}`;
  return text;
}

/**
 * Starts a stopwatch.
 *
 * @example
 * ```ts
 * import { formatDuration, startStopwatch } from "./duration.ts";
 * const elapsed = startStopwatch();
 * // ... work ...
 * console.log(`done in ${formatDuration(elapsed())}`);
 * ```
 *
 * @returns a function giving the seconds passed since the stopwatch started, to the
 *   microsecond
 */
export function startStopwatch(): () => number {
  const start = performance.now();
  // To the microsecond, as Python's datetime measures: durations then add up exactly.
  return () => Math.round((performance.now() - start) * 1000) / 1e6;
}

/**
 * Reads a duration printed the way Python prints a `datetime.timedelta` (and
 * {@linkcode formatDuration}): the inverse of that function.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./duration.ts";
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
