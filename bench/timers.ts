/**
 * The reactor's timer measurements, shared by `reactor_bench.ts`, `trace_bench.ts` and
 * its A/B fixture (`fixtures/reactor_timers.ts`): µs per `callLater`, scheduled then
 * cancelled, or scheduled with delay 0 and all fired. They take any reactor class, so
 * that the A/B can load one from a copy of another commit. This module imports nothing,
 * so a fixture that loads another tree's reactor loads only that tree.
 *
 * @example
 * ```ts
 * import { fireAllUs, scheduleThenCancelUs } from "./timers.ts";
 * import { SelectReactor } from "../lib/reactor/select.ts";
 * console.log(scheduleThenCancelUs(SelectReactor, 1000), await fireAllUs(SelectReactor, 1000));
 * ```
 *
 * @module
 */

/** What the measurements need of a reactor, whichever tree it comes from. */
export interface TimedReactor {
  /** Schedule `f`. */
  callLater(delay: number, f: () => void): { cancel(): void };
  /** Run until stopped. */
  run(): Promise<void>;
  /** Stop. */
  stop(): void;
}

const noop = () => {};

/**
 * Schedules `calls` calls a second or so ahead, then cancels them all.
 *
 * @param Reactor the reactor class
 * @param calls how many
 * @returns µs per call (schedule and cancel)
 */
export function scheduleThenCancelUs(Reactor: new () => TimedReactor, calls: number): number {
  const reactor = new Reactor();
  const started = performance.now();
  const scheduled = new Array(calls);
  for (let index = 0; index < calls; index++) {
    scheduled[index] = reactor.callLater(1 + index * 1e-6, noop);
  }
  for (let index = 0; index < calls; index++) scheduled[index].cancel();
  return (performance.now() - started) * 1000 / calls;
}

/**
 * Schedules `calls` calls with delay 0 and runs the reactor until the last one stops it.
 *
 * @param Reactor the reactor class
 * @param calls how many
 * @returns µs per call, from the first `callLater` to the last call run
 */
export async function fireAllUs(Reactor: new () => TimedReactor, calls: number): Promise<number> {
  const reactor = new Reactor();
  let left = calls;
  const done = () => {
    if (--left === 0) reactor.stop();
  };
  const started = performance.now();
  for (let index = 0; index < calls; index++) reactor.callLater(0, done);
  await reactor.run();
  return (performance.now() - started) * 1000 / calls;
}
