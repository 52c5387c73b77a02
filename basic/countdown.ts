#!/usr/bin/env -S deno run -N -R
/**
 * callLater and stop: count down from 5, one second apart, then stop the
 * reactor, which makes `run()` return.
 *
 * @module
 */
import { endOnMissingPermission, expectNoArguments } from "../lib/cli.ts";
import { reactor } from "../lib/reactor/mod.ts";

endOnMissingPermission(); // a missing -N or -R: one line, not a stack trace
expectNoArguments("Counts down from 5, then stops.");

class Countdown {
  counter = 5;

  // An arrow function, not a method: `this.count` is handed to the reactor on its own,
  // and an arrow function keeps `this` bound to its Countdown (Python's bound method).
  count = (): void => {
    if (this.counter === 0) return reactor.stop(); // run() returns, and "Stop!" follows
    console.log(this.counter, "...");
    this.counter -= 1;
    reactor.callLater(1, this.count); // call me again in a second
  };
}

reactor.callWhenRunning(new Countdown().count);

console.log("Start!");
await reactor.run();
console.log("Stop!");
