#!/usr/bin/env -S deno run -N -R
/**
 * The simplest reactor program: start the loop, with nothing for it to do.
 * It waits forever, using no CPU; Ctrl-C stops it.
 *
 * @module
 */
import { parseCommandLine, UsageError } from "../lib/cli.ts";
import { reactor } from "../lib/reactor/mod.ts";

parseCommandLine(
  Deno.args,
  { usage: "[-h]", description: "Runs an idle reactor. Ctrl-C ends it." },
  ({ positionals }) => {
    if (positionals.length > 0) throw new UsageError("This script takes no arguments.");
  },
);

await reactor.run();
