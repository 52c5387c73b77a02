#!/usr/bin/env -S deno run -N -R
/**
 * A callback that throws: the reactor reports the error and goes on to the
 * next callback.
 *
 * @module
 */
import { endOnMissingPermission, expectNoArguments } from "../lib/cli.ts";
import { reactor } from "../lib/reactor/mod.ts";

endOnMissingPermission(); // a missing -N or -R: one line, not a stack trace
expectNoArguments("Throws in one callback, not in the next.");

// deno-fmt-ignore: as short as the original's
function falldown(): never { throw new Error("I fall down."); }

function upagain(): void {
  console.log("But I get up again.");
  reactor.stop();
}

reactor.callWhenRunning(falldown);
reactor.callWhenRunning(upagain);

console.log("Starting the reactor.");
await reactor.run();
