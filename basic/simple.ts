#!/usr/bin/env -S deno run -N -R
/**
 * The simplest reactor program: start the loop, with nothing for it to do.
 * It waits forever, using no CPU; Ctrl-C stops it.
 *
 * @module
 */
import { endOnMissingPermission, expectNoArguments } from "../lib/cli.ts";
import { reactor } from "../lib/reactor/mod.ts";

endOnMissingPermission(); // a missing -N or -R: one line, not a stack trace
expectNoArguments("Runs an idle reactor. Ctrl-C ends it.");

await reactor.run();
