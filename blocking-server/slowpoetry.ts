#!/usr/bin/env -S deno run -N -R
/**
 * The slow poetry server of Part 2: a blocking server that sends one poem to
 * one client at a time, a few bytes at a time, with a pause after each chunk.
 * Every socket call here blocks, and so does the pause, so while one client
 * is being served the others wait their turn.
 *
 * @module
 */

import { formatAddress, parsePort } from "../lib/address.ts";
import {
  endOnMissingPermission,
  fail,
  parseCommandLine,
  parseNumber,
  readableFile,
  UsageError,
} from "../lib/cli.ts";
import { type Address, sleep, Socket, SocketError } from "../lib/socket/mod.ts";

endOnMissingPermission(); // a missing -N or -R: one line, not a stack trace
const settings = parseCommandLine(Deno.args, {
  usage: "[options] POETRY-FILE",
  description: `
Serves POETRY-FILE to one client at a time, NUM-BYTES bytes every DELAY seconds
(the README's Part 2 shows the article's three servers):

  deno run -N -R blocking-server/slowpoetry.ts --port 10000 poetry/ecstasy.txt`,
  options: {
    port: { metavar: "N", help: "the port to listen on; 0 picks a free one", default: "0" },
    iface: { metavar: "HOST", help: "the interface to listen on", default: "localhost" },
    delay: { metavar: "S", help: "seconds to wait after sending each chunk", default: "0.1" },
    "num-bytes": { metavar: "N", help: "bytes to send at a time", default: "10" },
  },
}, ({ values, positionals }) => {
  if (positionals.length !== 1) throw new UsageError("Provide exactly one poetry file.");
  return {
    poetryFile: readableFile(positionals[0]),
    port: parsePort(values.port),
    iface: values.iface,
    delay: parseNumber(values.delay, "--delay", { min: 0 }),
    numBytes: parseNumber(values["num-bytes"], "--num-bytes", { integer: true, min: 1 }),
  };
});

/** Reads the next chunk of the poem into `buffer`: a full one, or the last (empty at the end). */
function readChunk(poem: Deno.FsFile, buffer: Uint8Array): Uint8Array {
  let filled = 0;
  while (filled < buffer.length) {
    const read = poem.readSync(buffer.subarray(filled));
    if (read === null) break; // the end of the file
    filled += read;
  }
  return buffer.subarray(0, filled);
}

/**
 * Sends the poem to one client, reading it as it goes, `numBytes` at a time: whatever
 * the file's size, the server holds one chunk of it. A client that leaves ends it early.
 */
function sendPoetry(client: Socket, poem: Deno.FsFile, numBytes: number, delay: number): void {
  const buffer = new Uint8Array(numBytes);
  while (true) {
    const chunk = readChunk(poem, buffer);
    if (chunk.length === 0) return;
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

/** Serves clients one after another, forever. */
function serve(listener: Socket): never {
  while (true) {
    const [client, address]: [Socket, Address] = listener.accept(); // blocks until a client connects
    console.log(`Somebody at ${formatAddress(address)} wants poetry!`);
    try {
      // Opened afresh for each client, so that edits show up.
      using poem = Deno.openSync(settings.poetryFile);
      sendPoetry(client, poem, settings.numBytes, settings.delay);
    } catch (error) {
      // The poem went missing or broke: this client's poem ends, the next may be luckier.
      console.log(`Cannot read ${settings.poetryFile}: ${(error as Error).message}`);
    }
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
