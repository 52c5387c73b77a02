#!/usr/bin/env -S deno run -N -R
/**
 * Part 2, exercises 2 and 3, second answer: `getPoetry(address): Promise<PoemText>`. The
 * function still cannot return the poem itself, which does not exist yet; it returns a
 * promise of it at once, an object that stands for the poem until it arrives. It is the
 * callback version of `get-poetry-callback.ts` wrapped in a promise: the reader's
 * callback resolves it (or rejects it), and whoever holds the promise decides what to
 * do with the poem, with `then`, or with `await` inside an async function.
 *
 * @example
 * ```ts
 * import { reactor } from "../../lib/reactor/mod.ts";
 * import { getPoetry } from "./get-poetry-promise.ts";
 *
 * const poem = getPoetry(["127.0.0.1", 10000]); // a Promise<PoemText>, at once
 * poem.then((received) => console.log(received.text)).finally(() => reactor.stop());
 * await reactor.run();
 * ```
 *
 * @module
 */

import { endOnMissingPermission } from "../../lib/cli.ts";
import { expectServerAddresses, formatAddress } from "../../lib/address.ts";
import { formatDuration, startStopwatch } from "../../lib/duration.ts";
import { ConnectionLost } from "../../lib/reactor/error.ts";
import { reactor } from "../../lib/reactor/mod.ts";
import { type Address, SocketError } from "../../lib/socket/mod.ts";
import type { PoemText } from "../../lib/poem.ts";
import { describePoem, getPoetry as getPoetryWithCallback } from "./get-poetry-callback.ts";

/**
 * Starts downloading the poem at `address` on the reactor and returns a promise of it
 * at once. The promise is settled from the reactor's loop, when the download ends.
 *
 * @example
 * ```ts
 * import { getPoetry } from "./get-poetry-promise.ts";
 * getPoetry(["127.0.0.1", 10000]).then((poem) => console.log(poem.characters));
 * ```
 *
 * @param address the server
 * @returns the poem, once it is complete; rejects with the error if the download fails
 */
export function getPoetry(address: Address): Promise<PoemText> {
  return new Promise((resolve, reject) => {
    getPoetryWithCallback(address, (error, poem) => error ? reject(error) : resolve(poem));
  });
}

if (import.meta.main) {
  endOnMissingPermission(); // a missing -N or -R: one line, not a stack trace
  const addresses = expectServerAddresses(`
Downloads a poem from each server given, all at once, with getPoetry(address),
which returns a promise of the poem, on the reactor, and prints each poem's
size as its promise resolves. HOST defaults to 127.0.0.1. With the three slow
poetry servers of Part 2 on ports 10000, 10001 and 10002:

  deno run -N -R solutions/part-2/get-poetry-promise.ts 10000 10001 10002`);

  const elapsed = startStopwatch();
  const downloads = addresses.map(async (address, index): Promise<boolean> => {
    const task = `Task ${index + 1}`;
    try {
      const poem = await getPoetry(address); // this function waits; the program does not
      console.log(`${task}: got ${describePoem(poem)} from ${formatAddress(address)}`);
      return true;
    } catch (error) {
      // A missing -N, say, is not the server's fault: only a broken connection is.
      if (!(error instanceof SocketError || error instanceof ConnectionLost)) throw error;
      console.log(`${task}: failed to get poetry from ${formatAddress(address)}: ${error.message}`);
      return false;
    }
  });
  console.log(`Started ${addresses.length} downloads; getPoetry has returned each time.`);
  const allDone = Promise.all(downloads);
  allDone.then(() => reactor.running && reactor.stop()); // not if Ctrl-C stopped it already
  await reactor.run();
  const seconds = elapsed();
  const received = (await allDone).filter(Boolean).length;
  console.log(`Got ${received} poems in ${formatDuration(seconds)}`);
}
