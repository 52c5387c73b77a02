/**
 * `deno task servers`: the article's three slow poetry servers of Part 2 in one terminal
 * (poetry/ecstasy.txt 30 bytes at a time on port N, poetry/fascination.txt on N+1,
 * poetry/science.txt on N+2), each line they print prefixed with its port, until Ctrl-C
 * or SIGTERM stops all three.
 *
 * @module
 */

import {
  endOnMissingPermission,
  fail,
  parseCommandLine,
  parseNumber,
  scriptName,
  UsageError,
} from "../lib/cli.ts";
import {
  articleServers,
  type RunningServer,
  SPEED_OPTIONS,
  speedScaleOf,
  startServers,
} from "./process.ts";

endOnMissingPermission();
const settings = parseCommandLine(Deno.args, {
  usage: "[--base-port N] [--fast] [--scale F]",
  description: `
Starts the three slow poetry servers of Part 2, as the article starts them in
three terminals:

  poetry/ecstasy.txt, 30 bytes at a time, on port N (10000 by default)
  poetry/fascination.txt, 10 bytes at a time, on port N+1
  poetry/science.txt, 10 bytes at a time, on port N+2

each sending a chunk every 0.1 s. Every line a server prints is shown with its
port in front. Ctrl-C (or SIGTERM) stops all three. Then, in a second terminal:

  deno run -N -R blocking-client/get-poetry.ts 10000 10001 10002

  deno task servers
  deno task servers --fast --base-port 20000`,
  options: {
    "base-port": { metavar: "N", help: "serve on ports N, N+1 and N+2", default: "10000" },
    ...SPEED_OPTIONS,
  },
}, ({ values, positionals }) => {
  if (positionals.length > 0) throw new UsageError("No arguments expected, only options.");
  return {
    // The three servers take N, N+1 and N+2.
    basePort: parseNumber(values["base-port"], "--base-port", {
      integer: true,
      min: 1,
      max: 65533,
    }),
    scale: speedScaleOf(values),
  };
});

let servers: RunningServer[] = [];
/**
 * Shows a server's line once all three have started; the lines before are shown then,
 * from what each server's process kept (a port taken is then one line on stderr, alone).
 */
const show = (port: number) => (line: { text: string }): void => {
  if (servers.length > 0) console.log(`[${port}] ${line.text}`);
};
const specs = articleServers(settings).map((spec) => ({
  ...spec,
  onLine: show(spec.port ?? 0),
}));

let stopping = false;

/** Stops every server, waits for them to exit, then exits with `code`. */
async function stopAll(code: number): Promise<never> {
  stopping = true;
  await Promise.allSettled(servers.map((server) => server.stop()));
  Deno.exit(code);
}

const onSignal = (signal: "SIGINT" | "SIGTERM", code: number) => () => {
  if (stopping) return;
  console.log(`\n${signal}: stopping the servers.`);
  stopAll(code);
};
Deno.addSignalListener("SIGINT", onSignal("SIGINT", 130));
Deno.addSignalListener("SIGTERM", onSignal("SIGTERM", 143));

try {
  servers = await startServers(specs);
} catch (error) {
  fail((error as Error).message, 1);
}
for (const server of servers) {
  for (const line of server.process.lines) console.log(`[${server.port}] ${line.text}`);
}
const ports = servers.map((server) => server.port).join(" ");
console.log(
  `Three slow poetry servers, a chunk every ${specs[0].delay} s. In another terminal:\n` +
    `  deno run -N -R blocking-client/get-poetry.ts ${ports}\n` +
    "Ctrl-C stops them.",
);

// A server that ends by itself (it should not) ends the others too.
const first = await Promise.race(
  servers.map(async (server) => ({ server, outcome: await server.process.finished(2 ** 31 - 1) })),
);
if (!stopping) {
  const { signal, stderr, code } = first.outcome;
  if (signal === "SIGINT" || signal === "SIGTERM") {
    // Ctrl-C in the terminal reaches the servers as well as us: stop as asked.
    onSignal(signal, signal === "SIGINT" ? 130 : 143)();
  } else {
    const why = stderr.trim().split("\n")[0] || `exit ${code}`;
    console.error(`${scriptName()}: error: the server on port ${first.server.port} ended: ${why}`);
    await stopAll(1);
  }
}
