#!/usr/bin/env -S deno run -N -R
/**
 * The simplest reactor program: start the loop, with nothing for it to do.
 * It waits forever, using no CPU; Ctrl-C stops it.
 *
 * @module
 */
import { expectNoArguments } from "../lib/cli.ts";
import { reactor } from "../lib/reactor/mod.ts";

expectNoArguments("Runs an idle reactor. Ctrl-C ends it.");

await reactor.run();
