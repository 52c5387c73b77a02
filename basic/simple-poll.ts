#!/usr/bin/env -S deno run -N -R
/**
 * `simple.ts` on the poll reactor: the same idle loop, waiting with poll
 * instead of select.
 *
 * @module
 */
import { endOnMissingPermission, expectNoArguments } from "../lib/cli.ts";
import { install } from "../lib/reactor/poll.ts";

endOnMissingPermission(); // a missing -N or -R: one line, not a stack trace
expectNoArguments("Runs an idle poll reactor. Ctrl-C ends it.");

// The poll reactor must be installed before anything imports the reactor
// module, which installs the default (select) reactor on first import. A
// static `import { reactor } from ".../mod.ts"` cannot wait: ES modules run
// all their imports before their own first line, so it would install select
// before `install()` here is reached. Hence install first, then import.
install();
const { reactor } = await import("../lib/reactor/mod.ts");

await reactor.run();
