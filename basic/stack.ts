#!/usr/bin/env -S deno run -N -R
/**
 * Who calls our callback? Print the stack from inside it: `run()` at the
 * bottom, the reactor's own frames in the middle, our function on top.
 * Then the loop sits idle; Ctrl-C ends it.
 *
 * @module
 */
import { endOnMissingPermission, expectNoArguments } from "../lib/cli.ts";
import { reactor } from "../lib/reactor/mod.ts";

endOnMissingPermission(); // a missing -N or -R: one line, not a stack trace
expectNoArguments("Prints a callback's stack.");

function stack(): void {
  // JavaScript lists the most recent call first; reverse it to read as Python
  // prints a stack: from the outermost call (our `run()`) down to this function.
  const frames = new Error().stack?.split("\n").slice(1) ?? [];
  console.log("The stack, outermost call first:");
  console.log(frames.reverse().join("\n"));
}

reactor.callWhenRunning(stack);
await reactor.run();
