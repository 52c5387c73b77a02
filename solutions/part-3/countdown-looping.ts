#!/usr/bin/env -S deno run -N -R
/**
 * Part 3, exercise 2: the countdown of `basic/countdown.ts`, with a `LoopingCall` doing
 * the rescheduling. The function it repeats only prints and counts; when the count runs
 * out it stops the loop and the reactor. As the exercise says, only `start` and `stop`
 * are needed: the promise `start` returns goes unused. Same output as
 * `basic/countdown.ts`, at the same pace (one line a second, then one more second
 * before "Stop!").
 *
 * @module
 */
import {
  endOnMissingPermission,
  parseCommandLine,
  parseNumber,
  UsageError,
} from "../../lib/cli.ts";
import { LoopingCall, reactor } from "../../lib/reactor/mod.ts";

endOnMissingPermission(); // a missing -N or -R: one line, not a stack trace
const interval = parseCommandLine(Deno.args, {
  usage: "[--interval S]",
  description: `
Counts down from 5, one line every S seconds, with a LoopingCall, then stops the
reactor: the output of basic/countdown.ts.

  deno run -N -R solutions/part-3/countdown-looping.ts
  deno run -N -R solutions/part-3/countdown-looping.ts --interval 0.2`,
  options: { interval: { metavar: "S", help: "seconds between lines", default: "1" } },
}, ({ values, positionals }) => {
  if (positionals.length > 0) throw new UsageError("No arguments expected, only options.");
  return parseNumber(values.interval, "--interval", { min: 0 });
});

let counter = 5;
const countdown = new LoopingCall(() => {
  if (counter === 0) {
    countdown.stop(); // no more calls
    reactor.stop();
  } else {
    console.log(counter, "...");
    counter -= 1;
  }
});

reactor.callWhenRunning(() => countdown.start(interval));

console.log("Start!");
await reactor.run();
console.log("Stop!");
