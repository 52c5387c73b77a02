/**
 * Deadlines for tests that wait: a test whose awaited work never settles fails with a
 * message saying what did not finish, instead of hanging the run.
 *
 * @example
 * ```ts
 * import { withDeadline } from "./deadline.ts";
 * const answer = await withDeadline(Promise.resolve(42), 1000, "the answer");
 * ```
 *
 * @module
 */

/**
 * Waits for `work`, but at most `ms` milliseconds: then rejects with
 * `WHAT did not finish within MS ms`. A rejection of `work` that comes after the
 * deadline is ignored (the test has failed already).
 *
 * @example
 * ```ts
 * import { withDeadline } from "./deadline.ts";
 * let received = 0;
 * await withDeadline(
 *   new Promise((resolve) => setTimeout(resolve, 10)),
 *   5000,
 *   () => `the download (${received} bytes so far)`,
 * );
 * ```
 *
 * @param work what the test waits for
 * @param ms the time limit
 * @param what names the work in the failure; a function is asked only on failure, so it
 *   can say how far the work got
 * @returns what `work` resolves to
 * @throws {Error} when the time runs out first, or what `work` rejects with
 */
export async function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  what: string | (() => string),
): Promise<T> {
  work.catch(() => {}); // a late rejection must not surface as an unhandled one
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const name = typeof what === "string" ? what : what();
      reject(new Error(`${name} did not finish within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
