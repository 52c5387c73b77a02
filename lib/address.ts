/**
 * Server addresses as the scripts take and print them: `[HOST:]PORT` on the command
 * line (the host defaults to 127.0.0.1), `HOST:PORT` in their output.
 *
 * @example Reading a client's command line
 * ```ts
 * import { expectServerAddresses, formatAddress } from "./address.ts";
 *
 * const addresses = expectServerAddresses("Fetches poems.", ["10000", "example.org:10001"]);
 * console.log(addresses.map(formatAddress)); // ["127.0.0.1:10000", "example.org:10001"]
 * ```
 *
 * @module
 */

import { parseCommandLine, UsageError } from "./cli.ts";
import type { Address } from "./socket/mod.ts";

/**
 * The host an address means when it gives only a port.
 *
 * @example
 * ```ts
 * import { DEFAULT_HOST, parseAddress } from "./address.ts";
 * parseAddress("10000")[0] === DEFAULT_HOST; // true
 * ```
 */
export const DEFAULT_HOST = "127.0.0.1";

/**
 * Parses a port number: decimal digits only, 0 to 65535.
 *
 * @example
 * ```ts
 * import { parsePort } from "./address.ts";
 * parsePort("10000"); // 10000
 * parsePort("ten"); // throws UsageError: Ports must be integers.
 * parsePort("-1"); // throws UsageError: Ports must be between 0 and 65535, not -1.
 * ```
 *
 * @param text the port as typed
 * @returns the port
 * @throws {UsageError} when `text` is not an integer in range
 */
export function parsePort(text: string): number {
  const outOfRange = () => new UsageError(`Ports must be between 0 and 65535, not ${text}.`);
  if (/^-[0-9]+$/.test(text)) throw outOfRange();
  if (!/^[0-9]+$/.test(text)) throw new UsageError("Ports must be integers.");
  const port = Number(text);
  if (port > 65535) throw outOfRange();
  return port;
}

/**
 * Parses `[HOST:]PORT`. Without a host (or with an empty one) the host is
 * {@linkcode DEFAULT_HOST}. An IPv6 host goes in brackets: `[::1]:10000`.
 *
 * @example
 * ```ts
 * import { parseAddress } from "./address.ts";
 * parseAddress("10000"); // ["127.0.0.1", 10000]
 * parseAddress("localhost:10001"); // ["localhost", 10001]
 * parseAddress("[::1]:10002"); // ["::1", 10002]
 * ```
 *
 * @param text the address as typed
 * @returns the host and the port
 * @throws {UsageError} when the port is not an integer from 0 to 65535
 */
export function parseAddress(text: string): Address {
  const colon = text.lastIndexOf(":");
  if (colon < 0) return [DEFAULT_HOST, parsePort(text)];
  let host = text.slice(0, colon);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  return [host === "" ? DEFAULT_HOST : host, parsePort(text.slice(colon + 1))];
}

/**
 * Parses the `[HOST:]PORT ...` arguments of a poetry client: at least one address,
 * each read by {@linkcode parseAddress}.
 *
 * @example
 * ```ts
 * import { parseAddresses } from "./address.ts";
 * parseAddresses(["10000", "localhost:10001"]); // [["127.0.0.1", 10000], ["localhost", 10001]]
 * parseAddresses([]); // throws UsageError: Provide at least one server address.
 * ```
 *
 * @param texts the addresses as typed
 * @returns the hosts and ports, in order
 * @throws {UsageError} when there is none, or one is not an address
 */
export function parseAddresses(texts: readonly string[]): Address[] {
  if (texts.length === 0) throw new UsageError("Provide at least one server address.");
  return texts.map(parseAddress);
}

/**
 * Formats an address as `HOST:PORT` (`[HOST]:PORT` for an IPv6 host).
 *
 * @example
 * ```ts
 * import { formatAddress } from "./address.ts";
 * formatAddress(["127.0.0.1", 10000]); // "127.0.0.1:10000"
 * ```
 *
 * @param address the host and the port
 * @returns the address as one string
 */
export function formatAddress([host, port]: Address): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Reads the command line of a poetry client, `[HOST:]PORT ...`: `-h`/`--help` prints
 * the usage line and `description` and exits 0; no address, or a bad one, ends the
 * program with a one-line error and exit status 2.
 *
 * @example
 * ```ts
 * import { expectServerAddresses } from "./address.ts";
 * const addresses = expectServerAddresses("Fetches a poem from each server.", ["10000"]);
 * // [["127.0.0.1", 10000]]
 * ```
 *
 * @param description the text of `--help`: what the client does, how to run it
 * @param args the arguments, `Deno.args` unless given
 * @returns the servers' addresses, in order
 */
export function expectServerAddresses(description: string, args: string[] = Deno.args): Address[] {
  return parseCommandLine(
    args,
    { usage: "[HOST:]PORT ...", description },
    ({ positionals }) => parseAddresses(positionals),
  );
}
