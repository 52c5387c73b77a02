#!/usr/bin/env -S deno run -N -R
/**
 * The blocking poetry client of Part 2: it downloads one poem from each
 * server in turn, and does not start on the next server until the current
 * poem has arrived whole. Each download is one task of Part 1's synchronous
 * model.
 *
 * @module
 */

import { endOnMissingPermission } from "../lib/cli.ts";
import { expectServerAddresses, formatAddress } from "../lib/address.ts";
import { formatDuration, startStopwatch } from "../lib/duration.ts";
import { endIfUnreachable } from "../lib/poetry_client.ts";
import { PoemText } from "../lib/poem.ts";
import { type Address, Socket } from "../lib/socket/mod.ts";

endOnMissingPermission(); // a missing -N or -R: one line, not a stack trace
const addresses = expectServerAddresses(`
Downloads a poem from each server given, one server after another, and says
how many bytes each sent and how long it took. HOST defaults to 127.0.0.1.
With the three slow poetry servers of Part 2 running on ports 10000, 10001
and 10002 (deno task servers starts them):

  deno run -N -R blocking-client/get-poetry.ts 10000 10001 10002`);

/** Downloads one whole poem. */
function getPoetry(address: Address): PoemText {
  const socket = new Socket();
  socket.connect(address); // blocks until connected (or refused)
  const poem = new PoemText();
  while (true) {
    // The blocking call of this program: recv waits, for as long as the
    // server takes, until some bytes arrive or the server closes.
    const bytes = socket.recv(65536);
    if (bytes.length === 0) break; // the server closed: that is the whole poem
    poem.add(bytes);
  }
  socket.close();
  poem.end();
  return poem;
}

let total = 0; // seconds, summed as Python sums timedeltas
for (const [index, address] of addresses.entries()) {
  const task = index + 1;
  console.log(`Task ${task}: get poetry from: ${formatAddress(address)}`);
  const elapsed = startStopwatch();
  let poem: PoemText;
  try {
    poem = getPoetry(address); // one synchronous task of Part 1's Figure 1
  } catch (error) {
    endIfUnreachable(address, error);
  }
  const seconds = elapsed();
  total += seconds;
  console.log(
    `Task ${task}: got ${poem.bytes} bytes of poetry from ${formatAddress(address)} in ${
      formatDuration(seconds)
    }`,
  );
}
console.log(`Got ${addresses.length} poems in ${formatDuration(total)}`);
