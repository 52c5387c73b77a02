#!/usr/bin/env -S deno run -N -R
/**
 * The asynchronous poetry client of Part 2, written without a framework: it
 * connects to every server at once, makes the sockets non-blocking, and runs
 * one select loop that reads whatever has arrived from whichever server,
 * without ever waiting on a single one.
 *
 * @module
 */

import { endOnMissingPermission } from "../lib/cli.ts";
import { expectServerAddresses, formatAddress } from "../lib/address.ts";
import { formatDuration, startStopwatch } from "../lib/duration.ts";
import { endIfUnreachable } from "../lib/poetry_client.ts";
import { type Address, select, Socket, WouldBlock } from "../lib/socket/mod.ts";

endOnMissingPermission(); // a missing -N or -R: one line, not a stack trace
const addresses = expectServerAddresses(`
Downloads a poem from each server given, from all of them at the same time,
printing a line for every batch of bytes that arrives. HOST defaults to
127.0.0.1. With the three slow poetry servers of Part 2 running on ports
10000, 10001 and 10002 (deno task servers starts them):

  deno run -N -R async-client/get-poetry.ts 10000 10001 10002`);

/** One download. It has a `fileno()`, so select can watch it directly. */
class Task {
  readonly chunks: Uint8Array[] = []; // the poem so far, as it arrived
  bytes = 0;
  constructor(readonly number: number, readonly address: Address, readonly socket: Socket) {}
  fileno(): number {
    return this.socket.fileno();
  }
}

/** Connects (blocking), then makes the socket non-blocking for the loop. */
function connect(address: Address): Socket {
  const socket = new Socket();
  try {
    socket.connect(address); // blocks, but only until the server accepts
  } catch (error) {
    endIfUnreachable(address, error);
  }
  socket.setBlocking(false);
  return socket;
}

/** Reads what the socket holds now, without waiting; returns how many bytes that was. */
function readAvailable(task: Task): number {
  let bytes = 0;
  while (true) {
    let chunk: Uint8Array;
    try {
      chunk = task.socket.recv(65536);
    } catch (error) {
      // EWOULDBLOCK: a blocking socket would wait here. A non-blocking one says so
      // instead, which tells us that we have read all there is for now: stop, and let
      // select tell us when there is more. Waiting here would hold up every other poem.
      if (error instanceof WouldBlock) break;
      endIfUnreachable(task.address, error);
    }
    if (chunk.length === 0) break; // the server closed
    task.chunks.push(chunk);
    bytes += chunk.length;
  }
  task.bytes += bytes;
  return bytes;
}

/**
 * The "reactor loop" of Part 2's Figure 5: wait for events (sockets with something to
 * read), react to each, and go round again until every poem is in. Its lines interleave
 * the tasks as the asynchronous model of Part 1's Figure 3 does.
 */
function getPoetry(tasks: Task[]): void {
  let open = tasks;
  while (open.length > 0) {
    // The one place this program waits: select blocks until some socket has something.
    const [readable] = select(open, [], []);
    for (const task of readable) {
      // Read only what has come, never wait on one socket: the others may be ready too.
      const bytes = readAvailable(task);
      if (bytes === 0) { // readable, yet nothing to read: the poem is complete
        open = open.filter((other) => other !== task);
        task.socket.close();
        console.log(`Task ${task.number} finished`);
      } else {
        console.log(
          `Task ${task.number}: got ${bytes} bytes of poetry from ${formatAddress(task.address)}`,
        );
      }
    }
  }
}

const elapsed = startStopwatch();
const tasks = addresses.map((address, index) => new Task(index + 1, address, connect(address)));
getPoetry(tasks);
const seconds = elapsed();
for (const task of tasks) console.log(`Task ${task.number}: ${task.bytes} bytes of poetry`);
console.log(`Got ${tasks.length} poems in ${formatDuration(seconds)}`);
