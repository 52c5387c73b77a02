#!/usr/bin/env -S deno run -N
/**
 * A netcat of our own, for systems without `nc`: connects to a server and copies what it
 * sends to stdout, byte for byte, as it arrives, until the server closes the connection.
 * `deno run -N tools/netcat.ts localhost 10000` does what the article's
 * `netcat localhost 10000` does.
 *
 * @module
 */

import { formatAddress, parseAddress, parsePort } from "../lib/address.ts";
import { endOnMissingPermission, fail, parseCommandLine, UsageError } from "../lib/cli.ts";

endOnMissingPermission();
const [hostname, port] = parseCommandLine(Deno.args, {
  usage: "[HOST] PORT",
  description: `
Connects to HOST (localhost by default) on PORT and prints what the server sends,
as it arrives, until the server closes the connection. With a slow poetry server
on port 10000 (deno task servers), watch the poem crawl down the screen:

  deno run -N tools/netcat.ts localhost 10000
  deno run -N tools/netcat.ts 10000`,
}, ({ positionals }) => {
  if (positionals.length === 1 && !positionals[0].includes(":")) {
    return ["localhost", parsePort(positionals[0])] as const;
  }
  if (positionals.length === 1) return parseAddress(positionals[0]);
  if (positionals.length === 2) return [positionals[0], parsePort(positionals[1])] as const;
  throw new UsageError("Provide a port, optionally after a host: [HOST] PORT.");
});

/** Why a network call failed, without Deno's `(os error N)` at the end. */
function reason(error: unknown): unknown {
  return error instanceof Error ? error.message.replace(/ \(os error \d+\)$/, "") : error;
}

let connection: Deno.TcpConn;
try {
  connection = await Deno.connect({ hostname, port });
} catch (error) {
  fail(`cannot connect to ${formatAddress([hostname, port])}: ${reason(error)}`, 1);
}
const buffer = new Uint8Array(65536);
while (true) {
  let count: number | null;
  try {
    count = await connection.read(buffer);
  } catch (error) {
    fail(`connection to ${formatAddress([hostname, port])} lost: ${reason(error)}`, 1);
  }
  if (count === null) break; // the server closed the connection
  try {
    await writeAll(Deno.stdout, buffer.subarray(0, count));
  } catch (error) {
    if (error instanceof Deno.errors.BrokenPipe) break; // nobody reads our output any more
    throw error;
  }
}
connection.close();

/** Writes all of `bytes`, as many writes as it takes. */
async function writeAll(writer: typeof Deno.stdout, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length;) offset += await writer.write(bytes.subarray(offset));
}
