#!/usr/bin/env -S deno run -N -R
/**
 * Part 4, exercise 2: the reactor poetry client with a time limit per poem. Each
 * `TimedPoetrySocket` asks the reactor, with `callLater`, to call it back once the time
 * is up. If the poem is still coming then, it gives up: it closes its socket and leaves
 * the reactor, as a finished download does. A poem that ends in time (or a connection
 * that breaks) cancels the timer, so no call is left waiting in the reactor. The last
 * download to end, in whichever way, stops the reactor.
 *
 * @example
 * ```ts
 * import { SelectReactor } from "../../lib/reactor/mod.ts";
 * import { TimedPoetrySocket } from "./get-poetry-timeout.ts";
 *
 * const reactor = new SelectReactor();
 * const download = new TimedPoetrySocket(1, ["127.0.0.1", 10000], reactor, 2.5);
 * await reactor.run();
 * console.log(download.timedOut, reactor.getDelayedCalls().length); // false 0, if in time
 * ```
 *
 * @module
 */

import { parseAddresses } from "../../lib/address.ts";
import {
  endOnMissingPermission,
  parseCommandLine,
  parseNumber,
  UsageError,
} from "../../lib/cli.ts";
import { formatDuration, startStopwatch } from "../../lib/duration.ts";
import {
  endIfUnreachable,
  installNamedReactor,
  type PoetryReactor,
  REACTOR_OPTION,
  reactorNameOf,
} from "../../lib/poetry_client.ts";
import type { IDelayedCall } from "../../lib/reactor/interfaces.ts";
import { CONNECTION_LOST } from "../../lib/reactor/main.ts";
import type { Address } from "../../lib/socket/mod.ts";
import { PoetrySocket } from "../../twisted-client/get-poetry.ts";

/**
 * The reason a download was given up: its `failure`.
 *
 * @example
 * ```ts
 * import { PoemTimedOut } from "./get-poetry-timeout.ts";
 * console.log(new PoemTimedOut(2.5).message); // timed out after 2.5 seconds
 * ```
 */
export class PoemTimedOut extends Error {
  /**
   * Makes the error.
   *
   * @param seconds the time limit that passed
   */
  constructor(seconds: number) {
    super(`timed out after ${seconds} seconds`);
    this.name = "PoemTimedOut";
  }
}

/**
 * A download that gives up when its poem has not ended within `timeout` seconds.
 *
 * @example
 * ```ts
 * import { reactor } from "../../lib/reactor/mod.ts";
 * import { TimedPoetrySocket } from "./get-poetry-timeout.ts";
 *
 * const download = new TimedPoetrySocket(1, ["127.0.0.1", 10000], reactor, 5);
 * await reactor.run(); // stops when the poem is in, or after 5 s
 * console.log(download.timedOut ? "gave up" : download.poem.characters);
 * ```
 */
export class TimedPoetrySocket extends PoetrySocket {
  /** Whether the time ran out before the poem ended. */
  timedOut = false;
  readonly #timer: IDelayedCall;

  /**
   * Connects, registers with the reactor, and starts the timer.
   *
   * @param taskNumber the task's number in the output
   * @param address the server
   * @param reactor the reactor to run on
   * @param timeout seconds the poem may take
   */
  constructor(
    taskNumber: number,
    address: Address,
    reactor: PoetryReactor,
    readonly timeout: number,
  ) {
    super(taskNumber, address, reactor);
    this.#timer = reactor.callLater(timeout, () => this.#giveUp());
  }

  /** The time is up: end the download as a lost connection would end it. */
  #giveUp(): void {
    this.timedOut = true;
    this.failure = new PoemTimedOut(this.timeout);
    this.connectionLost(CONNECTION_LOST); // closes the socket, leaves the reactor
  }

  /** Cancels the timer unless it is what ended us, then ends as a `PoetrySocket` does. */
  override connectionLost(reason: Error): void {
    if (this.#timer.active()) this.#timer.cancel();
    super.connectionLost(reason);
  }
}

if (import.meta.main) {
  endOnMissingPermission(); // a missing -N or -R: one line, not a stack trace
  const { addresses, reactorName, timeout } = parseCommandLine(Deno.args, {
    usage: "--timeout S [--reactor select|poll] [HOST:]PORT ...",
    description: `
Downloads a poem from each server given, on a reactor, like
twisted-client/get-poetry.ts, but gives up on any poem that has not arrived
whole S seconds after the start. HOST defaults to 127.0.0.1. The last line says
how many delayed calls are still pending in the reactor: 0, as every poem that
ends in time cancels its timer. With the three slow poetry servers of Part 2 on
ports 10000, 10001 and 10002 (10 s, 6.3 s and 6.6 s):

  deno run -N -R solutions/part-4/get-poetry-timeout.ts --timeout 8 10000 10001 10002`,
    options: {
      timeout: { metavar: "S", help: "seconds each poem may take" },
      reactor: REACTOR_OPTION,
    },
  }, ({ values, positionals }) => {
    if (values.timeout === undefined) throw new UsageError("Say how long to wait: --timeout S.");
    return {
      addresses: parseAddresses(positionals),
      reactorName: reactorNameOf(values.reactor),
      timeout: parseNumber(values.timeout, "--timeout", { min: 0 }),
    };
  });

  // Install the chosen reactor before the reactor module is first loaded (see
  // lib/poetry_client.ts).
  const reactor = await installNamedReactor(reactorName);
  const elapsed = startStopwatch();
  const downloads = addresses.map((address, index) => {
    try {
      return new TimedPoetrySocket(index + 1, address, reactor, timeout);
    } catch (error) {
      endIfUnreachable(address, error);
    }
  });
  await reactor.run();
  const seconds = elapsed();
  for (const download of downloads) {
    const note = download.timedOut ? " (timed out)" : "";
    console.log(
      `Task ${download.taskNumber}: ${download.poem.characters} characters of poetry${note}`,
    );
  }
  const complete = downloads.filter((download) => download.failure === null).length;
  console.log(`Got ${complete} of ${downloads.length} poems in ${formatDuration(seconds)}`);
  console.log(`Delayed calls still pending: ${reactor.getDelayedCalls().length}`);
}
