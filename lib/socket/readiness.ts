/**
 * Readiness: what `poll` reports of a descriptor, in Linux's `POLL*` bits, and how a
 * socket's header and rings say it. `select` and `Poll` (`select.ts`) read it through
 * `Socket.readiness()`.
 *
 * @example
 * ```ts
 * import { POLLIN, POLLOUT } from "./readiness.ts";
 * const mask = POLLIN | POLLOUT;
 * console.log((mask & POLLIN) !== 0); // true: reading will not block
 * ```
 * @module
 */

import { HEADER, STATE } from "./header.ts";
import type { ConnectionRings } from "./ring.ts";

/**
 * Anything with a descriptor: what `select` and `Poll` accept.
 *
 * @example
 * ```ts
 * import type { HasFileno } from "./readiness.ts";
 * const standardInput: HasFileno = { fileno: () => 0 };
 * ```
 */
export interface HasFileno {
  /** The descriptor, or -1 when there is none any more. */
  fileno(): number;
}

/** Poll event bits, as Linux numbers them. */
export const POLLIN = 0x001;
/** Urgent data to read (never happens on these sockets). */
export const POLLPRI = 0x002;
/** Writing will not block. */
export const POLLOUT = 0x004;
/** An error is pending (always reported). */
export const POLLERR = 0x008;
/** The connection is gone (always reported). */
export const POLLHUP = 0x010;
/** The descriptor is not open (always reported). */
export const POLLNVAL = 0x020;

/**
 * A listener's readiness: readable when a connection waits to be accepted, or when one
 * waits that the process has no descriptor left for (then `accept` fails at once).
 *
 * @example
 * ```ts ignore
 * if (listenerReadiness(listener.header) & POLLIN) listener.accept();
 * ```
 */
export function listenerReadiness(header: Int32Array): number {
  const errorBit = Atomics.load(header, HEADER.ERRNO) !== 0 ? POLLERR : 0;
  const acceptable = Atomics.load(header, HEADER.PENDING) > 0 ||
    Atomics.load(header, HEADER.NO_DESCRIPTOR) !== 0;
  return (acceptable ? POLLIN : 0) | errorBit;
}

/**
 * A connection's readiness: readable when bytes are buffered, or the stream has ended
 * (`readShut`: shutdown(SHUT_RD) was called); writable when its send ring has room;
 * both, with `POLLHUP`, once it has failed or broken; nothing while it connects.
 *
 * @example
 * ```ts ignore
 * const mask = connectionReadiness(socket.header, rings, false);
 * ```
 */
export function connectionReadiness(
  header: Int32Array,
  rings: ConnectionRings,
  readShut: boolean,
): number {
  const state = Atomics.load(header, HEADER.STATE);
  const errorBit = Atomics.load(header, HEADER.ERRNO) !== 0 ? POLLERR : 0;
  if (state === STATE.CONNECTING) return 0;
  if (state === STATE.FAILED) return POLLOUT | POLLHUP | errorBit;
  let mask = errorBit;
  if (rings.unread() > 0 || Atomics.load(header, HEADER.EOF) === 1 || readShut) {
    mask |= POLLIN;
  }
  if (Atomics.load(header, HEADER.BROKEN) === 1) return mask | POLLIN | POLLOUT | POLLHUP;
  if (rings.hasSendRoom()) mask |= POLLOUT;
  return mask;
}
