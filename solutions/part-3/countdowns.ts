#!/usr/bin/env -S deno run -N -R
/**
 * Part 3, exercise 1: three countdowns at once, each at its own pace, on one reactor.
 *
 * Each {@linkcode Countdown} schedules only its own next tick with `callLater`; none of
 * them knows about the others. The reactor interleaves their ticks by time. What they
 * share is a count of countdowns still running, and the last one to finish stops the
 * reactor.
 *
 * @example
 * ```ts
 * import { Clock } from "../../lib/reactor/task.ts";
 * import { Countdown } from "./countdowns.ts";
 *
 * const clock = new Clock();
 * new Countdown("fast", 0.3, clock, () => console.log("all done")).start();
 * clock.pump(Array(6).fill(0.3)); // fast: 5 ... down to fast: 1 ..., then fast: done
 * ```
 *
 * @module
 */

import {
  endOnMissingPermission,
  parseCommandLine,
  parseNumber,
  UsageError,
} from "../../lib/cli.ts";
import type { IReactorTime } from "../../lib/reactor/interfaces.ts";

/**
 * A countdown from `from` to 1, one line per tick, `interval` seconds apart, then a
 * `NAME: done` line and a call to `onDone`.
 *
 * @example
 * ```ts
 * import { reactor } from "../../lib/reactor/mod.ts";
 * import { Countdown } from "./countdowns.ts";
 *
 * new Countdown("fast", 0.3, reactor, () => reactor.stop()).start();
 * await reactor.run(); // fast: 5 ... to fast: 1 ..., fast: done, in 1.5 s
 * ```
 */
export class Countdown {
  #counter: number;

  /**
   * Makes the countdown; nothing happens until {@linkcode Countdown.start}.
   *
   * @param name how its lines start
   * @param interval seconds between ticks
   * @param clock what schedules the ticks: the reactor, or a `Clock` in tests
   * @param onDone called once, one interval after the last number
   * @param from the first number
   */
  constructor(
    readonly name: string,
    readonly interval: number,
    readonly clock: IReactorTime,
    readonly onDone: () => void,
    from = 5,
  ) {
    this.#counter = from;
  }

  /** Prints the first number now, and schedules the rest. */
  start(): void {
    this.#tick();
  }

  #tick(): void {
    if (this.#counter === 0) {
      console.log(`${this.name}: done`);
      this.onDone();
      return;
    }
    console.log(`${this.name}: ${this.#counter} ...`);
    this.#counter -= 1;
    this.clock.callLater(this.interval, () => this.#tick());
  }
}

/**
 * The three countdowns of the exercise: names and seconds between ticks.
 *
 * @example
 * ```ts
 * import { PACES } from "./countdowns.ts";
 * for (const [name, interval] of PACES) console.log(`${name} ticks every ${interval} s`);
 * ```
 */
export const PACES: ReadonlyArray<readonly [name: string, interval: number]> = [
  ["slow", 1],
  ["medium", 0.5],
  ["fast", 0.3],
];

if (import.meta.main) {
  endOnMissingPermission(); // a missing -N or -R: one line, not a stack trace
  const scale = parseCommandLine(Deno.args, {
    usage: "[--scale X]",
    description: `
Runs three countdowns from 5 at the same time on one reactor: "slow" ticks every
second, "medium" every 0.5 s, "fast" every 0.3 s. Their lines interleave; the
reactor stops when the last one is done. --scale multiplies every interval
(0.1 runs it ten times faster).

  deno run -N -R solutions/part-3/countdowns.ts
  deno run -N -R solutions/part-3/countdowns.ts --scale 0.1`,
    options: { scale: { metavar: "X", help: "multiply every interval by X", default: "1" } },
  }, ({ values, positionals }) => {
    if (positionals.length > 0) throw new UsageError("No arguments expected, only options.");
    return parseNumber(values.scale, "--scale", { min: 0 });
  });

  // Imported here rather than at the top, so that a test can import Countdown and drive it
  // with a Clock without installing a reactor.
  const { reactor } = await import("../../lib/reactor/mod.ts");
  let running = PACES.length;
  const countdownDone = (): void => {
    running -= 1;
    if (running === 0) reactor.stop();
  };
  for (const [name, interval] of PACES) {
    const countdown = new Countdown(name, interval * scale, reactor, countdownDone);
    reactor.callWhenRunning(() => countdown.start());
  }
  console.log("Start!");
  await reactor.run();
  console.log("Stop!");
}
