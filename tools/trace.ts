/**
 * `deno task trace [--html FILE] [--json FILE] SCRIPT [ARGS...]`: run any
 * script (a lesson, a solution, your own) with tracing on, its output passing
 * through unchanged; then print an account of what its loop did, and write
 * the trace (`trace.json`, Trace Event Format: Perfetto opens it) and a page
 * drawing it as the article's figures (`trace.html`). Exits with the
 * script's status. A crash or Ctrl-C still gets the account and both files.
 *
 * @module
 */

import { helpText } from "../lib/cli.ts";
import { fromCaller } from "./process.ts";
import { accountOf } from "./trace/account.ts";
import { pageOf } from "./trace/page.ts";
import { runTraced, traceEventFormat } from "./trace/run.ts";

const SPEC = {
  usage: "[--html FILE] [--json FILE] SCRIPT [ARGS...]",
  description: `
Runs SCRIPT (with deno run -N -R, and ARGS) with the reactor and the socket
layer recording what they do. Its output passes through unchanged. Then it
prints an account (time waiting against time in callbacks, the callbacks that
held the loop, late delayed calls, how the program ended) and writes
trace.html (the run drawn as the article's figures) and trace.json (Trace
Event Format, for Perfetto), in the current directory unless given. Exits with
the script's status; mistakes in the command exit 2.

  deno task trace twisted-client/get-poetry-broken.ts 10000 10001 10002
  deno task trace --html countdown.html basic/countdown.ts`,
};

function usageError(message: string): never {
  console.error(`trace: error: ${message} (usage: deno task trace ${SPEC.usage})`);
  Deno.exit(2);
}

const given = [...Deno.args];
let htmlPath = fromCaller("trace.html");
let jsonPath = fromCaller("trace.json");
while (given.length > 0 && given[0].startsWith("-")) {
  const option = given.shift() as string;
  if (option === "--") break;
  if (option === "-h" || option === "--help") {
    console.log(helpText(SPEC));
    Deno.exit(0);
  }
  const [name, inline] = option.split(/=(.*)/s, 2);
  if (name !== "--html" && name !== "--json") usageError(`unknown option ${option}`);
  const value = inline ?? given.shift();
  if (value === undefined || value === "") usageError(`${name} needs a FILE`);
  if (name === "--html") htmlPath = fromCaller(value);
  else jsonPath = fromCaller(value);
}
const [script, ...scriptArgs] = given;
if (script === undefined) usageError("which SCRIPT? Give the script to trace.");
const scriptPath = fromCaller(script);
let isFile = false;
try {
  isFile = Deno.statSync(scriptPath).isFile;
} catch {
  // reported below
}
if (!isFile) usageError(`no such script: ${script}`);

const traced = await runTraced(scriptPath, scriptArgs, {
  output: "inherit",
  forwardInterrupt: true,
});
const account = accountOf(traced.run, traced);
const name = [script, ...scriptArgs].join(" ");
let written = true;
try {
  Deno.writeTextFileSync(jsonPath, traceEventFormat(traced.events, traced.run, name));
  Deno.writeTextFileSync(htmlPath, pageOf(traced.run, { title: `trace of ${name}`, account }));
} catch (error) {
  written = false;
  console.error(`trace: error: could not write the trace: ${(error as Error).message}`);
}
console.error("");
console.error(`--- trace of ${name} (${traced.events.length} events) ---`);
for (const line of account) console.error(line);
if (written) {
  console.error(`wrote ${htmlPath}`);
  console.error(`wrote ${jsonPath}`);
}
Deno.exit(traced.code);
