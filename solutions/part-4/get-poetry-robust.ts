#!/usr/bin/env -S deno run -N -R
/**
 * Part 4, exercise 1: the reactor poetry client of `twisted-client/get-poetry.ts`, fixed
 * so that a server it cannot reach does not end the program. That task is reported, the
 * other poems are fetched as usual, and the summary says which ones came.
 *
 * One change does it: the main loop catches the connection error of each `PoetrySocket`
 * it makes, instead of ending the program, and runs the reactor only if some connection
 * was made (a reactor with nothing to do, and nobody to stop it, would run forever).
 * A `PoetrySocket` whose connection fails closes its own socket: the failed object is
 * never registered with the reactor, so nobody else would close it, and an open socket,
 * connected or not, keeps the program alive.
 *
 * @example
 * ```ts
 * import { getPoetryRobustly } from "./get-poetry-robust.ts";
 * await getPoetryRobustly([["127.0.0.1", 10000], ["127.0.0.1", 10001]], "select");
 * ```
 *
 * @module
 */

import { endOnMissingPermission } from "../../lib/cli.ts";
import { formatAddress } from "../../lib/address.ts";
import { formatDuration, startStopwatch } from "../../lib/duration.ts";
import { type Address, SocketError } from "../../lib/socket/mod.ts";
import { installNamedReactor, parsePoetryArgs, type ReactorName } from "../../lib/poetry_client.ts";
import { PoetrySocket } from "../../twisted-client/get-poetry.ts";

/**
 * Fetches a poem from each address; prints a line for each server that cannot be
 * reached, a line per task at the end, and `Got N of M poems in ...`.
 *
 * @example
 * ```ts
 * import { getPoetryRobustly } from "./get-poetry-robust.ts";
 * const poems = await getPoetryRobustly([["127.0.0.1", 10000]], "poll");
 * ```
 *
 * @param addresses the servers
 * @param reactorName `select` or `poll`
 * @returns how many poems arrived whole
 */
export async function getPoetryRobustly(
  addresses: Address[],
  reactorName: ReactorName,
): Promise<number> {
  const reactor = await installNamedReactor(reactorName);
  const elapsed = startStopwatch();
  const outcomes: Array<PoetrySocket | SocketError> = [];
  for (const [index, address] of addresses.entries()) {
    try {
      outcomes.push(new PoetrySocket(index + 1, address, reactor));
    } catch (error) {
      if (!(error instanceof SocketError)) throw error;
      console.log(
        `Task ${index + 1}: failed to connect to ${formatAddress(address)}: ${error.message}`,
      );
      outcomes.push(error);
    }
  }
  if (outcomes.some((outcome) => outcome instanceof PoetrySocket)) await reactor.run();
  const seconds = elapsed();
  let poems = 0;
  for (const [index, outcome] of outcomes.entries()) {
    if (outcome instanceof SocketError) {
      console.log(`Task ${index + 1}: no poetry (${outcome.message})`);
    } else if (outcome.failure !== null) {
      console.log(
        `Task ${index + 1}: ${outcome.poem.characters} characters of poetry (incomplete)`,
      );
    } else {
      console.log(`Task ${index + 1}: ${outcome.poem.characters} characters of poetry`);
      poems += 1;
    }
  }
  console.log(`Got ${poems} of ${addresses.length} poems in ${formatDuration(seconds)}`);
  return poems;
}

if (import.meta.main) {
  endOnMissingPermission(); // a missing -N or -R: one line, not a stack trace
  const { addresses, reactorName } = parsePoetryArgs(
    Deno.args,
    `
Downloads a poem from each server given, on a reactor, like
twisted-client/get-poetry.ts; a server that cannot be reached is reported and
skipped instead of ending the program. HOST defaults to 127.0.0.1. With slow
poetry servers on ports 10000 and 10002 and nothing on 10001:

  deno run -N -R solutions/part-4/get-poetry-robust.ts 10000 10001 10002`,
  );
  await getPoetryRobustly(addresses, reactorName);
}
