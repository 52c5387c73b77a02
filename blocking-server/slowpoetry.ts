#!/usr/bin/env -S deno run -N -R
/**
 * The slow poetry server of Part 2: a blocking server that sends one poem to
 * one client at a time, a few bytes at a time, with a pause after each chunk.
 * Every socket call here blocks, and so does the pause, so while one client
 * is being served the others wait their turn.
 *
 * @module
 */

import {
  existingFile,
  fail,
  formatAddress,
  parseCommandLine,
  parseNumber,
  parsePort,
  UsageError,
} from "../lib/cli.ts";
import { type Address, sleep, Socket, SocketError } from "../lib/socket/mod.ts";

const settings = parseCommandLine(Deno.args, {
  usage: "[options] POETRY-FILE",
  description: `
Serves the poem in POETRY-FILE to each client that connects, slowly: it sends
NUM-BYTES bytes, waits DELAY seconds, sends the next NUM-BYTES, and so on;
after the last chunk it closes the connection. It serves one client at a
time; the next one waits until the poem is done. It prints the port it
listens on, and a line for every chunk it sends.

  deno run -N -R blocking-server/slowpoetry.ts poetry/ecstasy.txt
  deno run -N -R blocking-server/slowpoetry.ts --num-bytes 50 --delay 5 poetry/ecstasy.txt
  deno run -N -R blocking-server/slowpoetry.ts --port 10000 poetry/ecstasy.txt

Then watch the poem arrive with netcat (nc localhost 10000), or start the
three servers of Part 2, one per terminal, and run a client against them:

  deno run -N -R blocking-server/slowpoetry.ts --port 10000 poetry/ecstasy.txt --num-bytes 30
  deno run -N -R blocking-server/slowpoetry.ts --port 10001 poetry/fascination.txt
  deno run -N -R blocking-server/slowpoetry.ts --port 10002 poetry/science.txt
  deno run -N -R blocking-client/get-poetry.ts 10000 10001 10002

Stop it with Ctrl-C.`,
  options: {
    port: { metavar: "N", help: "the port to listen on; 0 picks a free one", default: "0" },
    iface: { metavar: "HOST", help: "the interface to listen on", default: "localhost" },
    delay: { metavar: "S", help: "seconds to wait after sending each chunk", default: "0.1" },
    "num-bytes": { metavar: "N", help: "bytes to send at a time", default: "10" },
  },
}, ({ values, positionals }) => {
  if (positionals.length !== 1) throw new UsageError("Provide exactly one poetry file.");
  return {
    poetryFile: existingFile(positionals[0]),
    port: parsePort(values.port),
    iface: values.iface,
    delay: parseNumber(values.delay, "--delay", { min: 0 }),
    numBytes: parseNumber(values["num-bytes"], "--num-bytes", { integer: true, min: 1 }),
  };
});

/** Sends the poem to one client, chunk by chunk; a client that leaves ends it early. */
function sendPoetry(client: Socket, poem: Uint8Array, numBytes: number, delay: number): void {
  for (let offset = 0; offset < poem.length; offset += numBytes) {
    const chunk = poem.subarray(offset, offset + numBytes);
    console.log(`Sending ${chunk.length} bytes`);
    try {
      client.sendAll(chunk); // blocks until the chunk fits in the socket's send buffer
    } catch (error) {
      if (error instanceof SocketError) return; // the client went away (EPIPE, ECONNRESET)
      throw error;
    }
    sleep(delay); // blocks the whole program: nothing else happens meanwhile
  }
}

/** The poem, read afresh for each client so that edits show up; null if it cannot be read. */
function readPoem(): Uint8Array | null {
  try {
    return Deno.readFileSync(settings.poetryFile);
  } catch (error) {
    // The poem went missing: this client gets nothing, the next one may be luckier.
    console.log(`Cannot read ${settings.poetryFile}: ${(error as Error).message}`);
    return null;
  }
}

/** Serves clients one after another, forever. */
function serve(listener: Socket): never {
  while (true) {
    const [client, address]: [Socket, Address] = listener.accept(); // blocks until a client connects
    console.log(`Somebody at ${formatAddress(address)} wants poetry!`);
    const poem = readPoem();
    if (poem) sendPoetry(client, poem, settings.numBytes, settings.delay);
    client.close();
  }
}

const listener = new Socket();
const where: Address = [settings.iface, settings.port];
try {
  listener.bind(where);
  listener.listen(5);
} catch (error) {
  if (error instanceof SocketError) {
    fail(`cannot listen on ${formatAddress(where)}: ${error.message}`, 1);
  }
  throw error;
}
console.log(`Serving ${settings.poetryFile} on port ${listener.getSockName()[1]}.`);
serve(listener);
