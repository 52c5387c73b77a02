/**
 * The two standard reasons a connection ends, as in `twisted.internet.main`.
 *
 * A descriptor's `doRead()` returns one of them to tell the reactor it is
 * finished; the reactor then removes it and passes the same value to its
 * `connectionLost(reason)`.
 *
 * @example
 * ```ts
 * import { CONNECTION_DONE, CONNECTION_LOST } from "./main.ts";
 *
 * function doRead(bytes: Uint8Array): Error | void {
 *   if (bytes.length === 0) return CONNECTION_DONE; // the peer closed: a clean end
 * }
 * console.log(doRead(new Uint8Array()) === CONNECTION_DONE); // true
 * console.log(CONNECTION_LOST.message);
 * ```
 *
 * @module
 */

import { ConnectionDone, ConnectionLost } from "./error.ts";

/** The reason for a clean close: the peer finished and closed its side. */
export const CONNECTION_DONE: ConnectionDone = new ConnectionDone();

/** The reason for an unclean end: reset, error, or a descriptor gone away. */
export const CONNECTION_LOST: ConnectionLost = new ConnectionLost();
