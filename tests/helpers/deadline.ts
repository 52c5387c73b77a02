/**
 * Deadlines for tests that wait: a test whose awaited work never settles, or whose
 * reactor never stops, fails with a message saying what did not finish, instead of
 * hanging the run.
 *
 * @example
 * ```ts
 * import { withDeadline } from "./deadline.ts";
 * const answer = await withDeadline(Promise.resolve(42), 1000, "the answer");
 * ```
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ReactorBase } from "../../lib/reactor/base.ts";

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

/**
 * Runs the reactor; fails (instead of hanging) if the test has not stopped it within
 * `seconds`.
 *
 * @example
 * ```ts
 * import { runAtMost } from "./deadline.ts";
 * import { SelectReactor } from "../../lib/reactor/select.ts";
 * const reactor = new SelectReactor();
 * reactor.callLater(0.01, () => reactor.stop());
 * await runAtMost(reactor);
 * ```
 *
 * @param reactor the reactor to run
 * @param seconds the time limit
 */
export async function runAtMost(reactor: ReactorBase, seconds = 3): Promise<void> {
  let timedOut = false;
  reactor.callLater(seconds, () => {
    timedOut = true;
    reactor.stop();
  });
  await reactor.run();
  assert.equal(timedOut, false, `the reactor was still running after ${seconds} s`);
}

/**
 * Runs the reactor for `seconds` (by a timer, not by what the test watches), so that what
 * happened meanwhile can be looked at afterwards; fails if it runs 2 s longer.
 *
 * @example
 * ```ts
 * import { runFor } from "./deadline.ts";
 * import { SelectReactor } from "../../lib/reactor/select.ts";
 * await runFor(new SelectReactor(), 0.01);
 * ```
 *
 * @param reactor the reactor to run
 * @param seconds how long
 */
export async function runFor(reactor: ReactorBase, seconds: number): Promise<void> {
  reactor.callLater(seconds, () => reactor.stop());
  await runAtMost(reactor, seconds + 2);
}
