/**
 * What the Part 4 reactor clients (`twisted-client/`, the Part 4 solutions) share, so
 * that their files show only the lesson: the command line
 * (`[--reactor select|poll] [HOST:]PORT ...`), installing the reactor chosen, the reactor
 * type their downloads hold, and the one-line ending for a server that cannot be reached
 * (which the Part 2 clients use too). Each client keeps its own main: it makes the
 * downloads, runs the reactor and reports.
 *
 * @example A client's main
 * ```ts ignore
 * import { installNamedReactor, parsePoetryArgs } from "./poetry_client.ts";
 *
 * const { addresses, reactorName } = parsePoetryArgs(Deno.args, "Fetches poems.");
 * const reactor = await installNamedReactor(reactorName);
 * // ... one download per address, each registered with reactor.addReader ...
 * await reactor.run();
 * ```
 *
 * @module
 */

import { formatAddress, parseAddresses } from "./address.ts";
import { fail, parseCommandLine, UsageError } from "./cli.ts";
import type { IReactorCore, IReactorFDSet, IReactorTime } from "./reactor/interfaces.ts";
import { type Address, SocketError } from "./socket/mod.ts";

/**
 * The reactor a Part 4 download holds: running and stopping it, watching sockets, and
 * timers (`callLater`, `seconds`, `getDelayedCalls`).
 *
 * @example A PoetrySocket that gives up after a while type-checks
 * ```ts
 * import { reactor } from "./reactor/mod.ts";
 * import type { PoetryReactor } from "./poetry_client.ts";
 * import { PoetrySocket } from "../twisted-client/get-poetry.ts";
 *
 * const forDownloads: PoetryReactor = reactor;
 * class ImpatientPoetrySocket extends PoetrySocket {
 *   giveUpIn(seconds: number): void {
 *     this.reactor.callLater(seconds, () => this.socket.close());
 *   }
 * }
 * ```
 */
export type PoetryReactor = IReactorCore & IReactorFDSet & IReactorTime;

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
export async function installNamedReactor(name: ReactorName): Promise<PoetryReactor> {
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
