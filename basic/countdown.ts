#!/usr/bin/env -S deno run -N -R
/**
 * callLater and stop: count down from 5, one second apart, then stop the
 * reactor, which makes `run()` return.
 *
 * @module
 */
import { parseCommandLine, UsageError } from "../lib/cli.ts";
import { reactor } from "../lib/reactor/mod.ts";

parseCommandLine(
  Deno.args,
  { usage: "[-h]", description: "Counts down from 5, then stops." },
  ({ positionals }) => {
    if (positionals.length > 0) throw new UsageError("This script takes no arguments.");
  },
);

class Countdown {
  counter = 5;

  count = (): void => {
    if (this.counter === 0) {
      reactor.stop();
    } else {
      console.log(this.counter, "...");
      this.counter -= 1;
      reactor.callLater(1, this.count);
    }
  };
}

reactor.callWhenRunning(new Countdown().count);

console.log("Start!");
await reactor.run();
console.log("Stop!");
