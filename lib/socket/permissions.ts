/**
 * The net permission a socket call needs, asked in the main thread the way Deno would
 * ask it (a prompt when a terminal is attached), so that a missing `-N` fails in the
 * call that needs it, with a clear message, instead of in the worker. Each place is
 * asked once: a query costs a good part of what a connect costs this thread
 * (bench/RESULTS.md).
 *
 * @example
 * ```ts ignore
 * import { requireNetAccess } from "./permissions.ts";
 * requireNetAccess("127.0.0.1", 10000); // NotCapable without -N
 * ```
 * @module
 */

/** The places net access was granted to. */
const netGranted = new Set<string>();

/**
 * Asks for net access to `host:port` (port 0: any port of `host`); throws
 * `Deno.errors.NotCapable`, naming the flag, when it is not granted.
 *
 * @example
 * ```ts ignore
 * requireNetAccess("localhost", 0); // before binding to a free port
 * ```
 */
export function requireNetAccess(host: string, port: number): void {
  const where = host.includes(":") ? `[${host}]` : host;
  const place = port === 0 ? where : `${where}:${port}`;
  if (netGranted.has(place)) return;
  const descriptor: Deno.NetPermissionDescriptor = { name: "net", host: place };
  let state = Deno.permissions.querySync(descriptor).state;
  if (state === "prompt") state = Deno.permissions.requestSync(descriptor).state;
  if (state !== "granted") {
    throw new Deno.errors.NotCapable(
      `Requires net access to "${place}", run again with the --allow-net flag (-N)`,
    );
  }
  netGranted.add(place);
}
