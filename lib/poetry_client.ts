/**
 * The plumbing of the Part 4 reactor clients, so that their files show only the lesson:
 * the command line (`[--reactor select|poll] [HOST:]PORT ...`), installing the reactor
 * chosen, and a main that makes one download per server, runs the reactor and prints the
 * summary. `twisted-client/get-poetry.ts`, `get-poetry-broken.ts` and the Part 4
 * solutions use it; each brings its own download class (`PoetrySocket` or a subclass).
 *
 * @example A client's main
 * ```ts
 * import { type PoetryReactor, parsePoetryArgs, poetryMain } from "./poetry_client.ts";
 * import type { Address } from "./socket/mod.ts";
 *
 * class Download {
 *   readonly poem = { characters: 0 };
 *   constructor(readonly taskNumber: number, address: Address, reactor: PoetryReactor) {}
 * }
 * const { addresses, reactorName } = parsePoetryArgs(["10000"], "Fetches a poem.");
 * await poetryMain(Download, addresses, reactorName);
 * ```
 *
 * @module
 */

import {
  fail,
  formatAddress,
  formatDuration,
  parseAddresses,
  parseCommandLine,
  startStopwatch,
  UsageError,
} from "./cli.ts";
import type { IReactorCore, IReactorFDSet, IReactorTime } from "./reactor/interfaces.ts";
import { type Address, SocketError } from "./socket/mod.ts";

/**
 * What a Part 4 download needs of the reactor: running and stopping, and watching its
 * socket.
 *
 * @example
 * ```ts
 * import { reactor } from "./reactor/mod.ts";
 * import type { PoetryReactor } from "./poetry_client.ts";
 * const forDownloads: PoetryReactor = reactor;
 * ```
 */
export type PoetryReactor = IReactorCore & IReactorFDSet;

/**
 * What {@linkcode poetryMain} reads of a download once the reactor has stopped.
 *
 * @example
 * ```ts
 * import type { PoetryDownload } from "./poetry_client.ts";
 * const download: PoetryDownload = { taskNumber: 1, poem: { characters: 3003 } };
 * ```
 */
export interface PoetryDownload {
  /** Its number in the output: `Task N`. */
  readonly taskNumber: number;
  /** The poem received, in characters (code points). */
  readonly poem: { readonly characters: number };
}

/**
 * How to start one download: `PoetrySocket` of `twisted-client/get-poetry.ts`, or a
 * subclass. The constructor connects and registers with the reactor; it throws a
 * `SocketError` when the connection fails.
 *
 * @example
 * ```ts
 * import type { PoetryDownloadClass, PoetryReactor } from "./poetry_client.ts";
 * import type { Address } from "./socket/mod.ts";
 *
 * const Download: PoetryDownloadClass = class {
 *   readonly poem = { characters: 0 };
 *   constructor(readonly taskNumber: number, address: Address, reactor: PoetryReactor) {}
 * };
 * ```
 */
export type PoetryDownloadClass = new (
  taskNumber: number,
  address: Address,
  reactor: PoetryReactor,
) => PoetryDownload;

/**
 * The reactors a client can run on.
 *
 * @example
 * ```ts
 * import type { ReactorName } from "./poetry_client.ts";
 * const name: ReactorName = "poll";
 * ```
 */
export type ReactorName = "select" | "poll";

/**
 * The `--reactor` option of the Part 4 clients and of the clients built on them, for
 * `parseCommandLine`.
 *
 * @example
 * ```ts
 * import { parseCommandLine } from "./cli.ts";
 * import { REACTOR_OPTION } from "./poetry_client.ts";
 *
 * const { reactor } = parseCommandLine(["--reactor", "poll"], {
 *   usage: "[--reactor select|poll]",
 *   description: "Runs on a reactor.",
 *   options: { reactor: REACTOR_OPTION },
 * }, ({ values }) => values);
 * ```
 */
export const REACTOR_OPTION = {
  metavar: "NAME",
  help: "the reactor to run on: select or poll",
  default: "select",
} as const;

/**
 * Checks the value of `--reactor`.
 *
 * @example
 * ```ts
 * import { reactorNameOf } from "./poetry_client.ts";
 * reactorNameOf("poll"); // "poll"
 * reactorNameOf("epoll"); // throws UsageError: No such reactor: epoll (choose select or poll).
 * ```
 *
 * @param value the option's value as typed
 * @returns `select` or `poll`
 * @throws {UsageError} for any other name
 */
export function reactorNameOf(value: string): ReactorName {
  if (value !== "select" && value !== "poll") {
    throw new UsageError(`No such reactor: ${value} (choose select or poll).`);
  }
  return value;
}

/**
 * Installs the reactor of that name and returns it. Only now is the reactor module
 * imported: importing it installs the default reactor, so, as the article advises, it is
 * imported where it is used, after installing the one wanted. (The reactor's own
 * `installReactor(reactor)`, in `reactor/base.ts`, installs a reactor object; this one
 * picks the object by name.)
 *
 * @example
 * ```ts
 * import { installNamedReactor } from "./poetry_client.ts";
 * const reactor = await installNamedReactor("poll");
 * reactor.callLater(1, () => reactor.stop());
 * await reactor.run();
 * ```
 *
 * @param name `select` or `poll`
 * @returns the installed reactor
 */
export async function installNamedReactor(
  name: ReactorName,
): Promise<PoetryReactor & IReactorTime> {
  if (name === "poll") (await import("./reactor/poll.ts")).install();
  return (await import("./reactor/mod.ts")).reactor;
}

/**
 * Reads the command line of a Part 4 client: `[--reactor select|poll] [HOST:]PORT ...`,
 * with `--help`; a mistake ends the program with a one-line error and exit status 2.
 *
 * @example
 * ```ts
 * import { parsePoetryArgs } from "./poetry_client.ts";
 * const { addresses, reactorName } = parsePoetryArgs(Deno.args, "Fetches poems.");
 * ```
 *
 * @param args the arguments, usually `Deno.args`
 * @param description the text of `--help`: what the client does, how to run it
 * @returns the servers, and the reactor to run on
 */
export function parsePoetryArgs(
  args: string[],
  description: string,
): { addresses: Address[]; reactorName: ReactorName } {
  return parseCommandLine(args, {
    usage: "[--reactor select|poll] [HOST:]PORT ...",
    description,
    options: { reactor: REACTOR_OPTION },
  }, ({ values, positionals }) => ({
    addresses: parseAddresses(positionals),
    reactorName: reactorNameOf(values.reactor),
  }));
}

/**
 * Ends the program the way every poetry client does when a server cannot be reached or
 * the connection breaks (a `SocketError`): one line, `NAME: error: cannot get poetry
 * from HOST:PORT: REASON`, and exit status 1. Anything else is thrown on.
 *
 * @example
 * ```ts
 * import { endIfUnreachable } from "./poetry_client.ts";
 * import { Socket } from "./socket/mod.ts";
 * const socket = new Socket();
 * try {
 *   socket.connect(["127.0.0.1", 10000]);
 * } catch (error) {
 *   endIfUnreachable(["127.0.0.1", 10000], error);
 * }
 * ```
 *
 * @param address the server
 * @param error what was thrown
 */
export function endIfUnreachable(address: Address, error: unknown): never {
  if (error instanceof SocketError) {
    fail(`cannot get poetry from ${formatAddress(address)}: ${error.message}`, 1);
  }
  throw error;
}

/**
 * Starts one download per address, numbering the tasks from 1. A server that cannot be
 * reached (`start` throws a `SocketError`) ends the program with one line,
 * `NAME: error: cannot get poetry from HOST:PORT: REASON`, and exit status 1.
 *
 * @example
 * ```ts
 * import { startDownloads } from "./poetry_client.ts";
 * const tasks = startDownloads([["127.0.0.1", 10000]], (taskNumber, address) => ({
 *   taskNumber,
 *   address,
 * }));
 * ```
 *
 * @param addresses the servers
 * @param start makes the download of task `taskNumber` from `address`
 * @returns the downloads, in the order of the addresses
 */
export function startDownloads<T>(
  addresses: Address[],
  start: (taskNumber: number, address: Address) => T,
): T[] {
  return addresses.map((address, index) => {
    try {
      return start(index + 1, address);
    } catch (error) {
      endIfUnreachable(address, error);
    }
  });
}

/**
 * Runs a Part 4 client: installs the reactor, starts one download per address (a server
 * that cannot be reached ends the program: one line, exit status 1), runs the reactor
 * until the downloads stop it, then prints `Task N: C characters of poetry` for each and
 * `Got N poems in DURATION`.
 *
 * @example
 * ```ts
 * import { poetryMain } from "./poetry_client.ts";
 * import type { PoetryDownloadClass } from "./poetry_client.ts";
 *
 * declare const PoetrySocket: PoetryDownloadClass;
 * await poetryMain(PoetrySocket, [["127.0.0.1", 10000]], "select");
 * ```
 *
 * @param Download the download class
 * @param addresses the servers
 * @param reactorName the reactor to run on
 */
export async function poetryMain(
  Download: PoetryDownloadClass,
  addresses: Address[],
  reactorName: ReactorName,
): Promise<void> {
  const reactor = await installNamedReactor(reactorName);
  const elapsed = startStopwatch();
  const downloads = startDownloads(
    addresses,
    (taskNumber, address) => new Download(taskNumber, address, reactor),
  );
  await reactor.run();
  const seconds = elapsed();
  for (const download of downloads) {
    console.log(`Task ${download.taskNumber}: ${download.poem.characters} characters of poetry`);
  }
  console.log(`Got ${addresses.length} poems in ${formatDuration(seconds)}`);
}
