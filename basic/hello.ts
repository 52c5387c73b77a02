#!/usr/bin/env -S deno run -N -R
/**
 * A first callback: the reactor calls `hello` once the loop runs. Then it
 * sits idle; Ctrl-C ends it.
 *
 * @module
 */
import { endOnMissingPermission, expectNoArguments } from "../lib/cli.ts";
import { reactor } from "../lib/reactor/mod.ts";

endOnMissingPermission(); // a missing -N or -R: one line, not a stack trace
expectNoArguments("Says hello from the reactor loop.");

function hello(): void {
  console.log("Hello from the reactor loop!");
  console.log("Lately I feel like I'm stuck in a rut.");
}

reactor.callWhenRunning(hello);

console.log("Starting the reactor.");
await reactor.run();
