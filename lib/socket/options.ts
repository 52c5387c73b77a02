/**
 * What a Python program sets on its sockets: timeouts (each socket's, and the default for
 * new ones), the socket options `getSockOpt` and `setSockOpt` know, and `shutdown`'s
 * constants, numbered as Linux numbers them, as Python's `socket` module gives them.
 *
 * A timeout is one of Python's three modes: `null` blocks, `0` never waits, a positive
 * number of seconds blocks at most that long per call.
 *
 * @example
 * ```ts
 * import { getDefaultTimeout, setDefaultTimeout } from "./options.ts";
 * setDefaultTimeout(2.5); // sockets made from now on wait at most 2.5 s per call
 * console.log(getDefaultTimeout()); // 2.5
 * setDefaultTimeout(null);
 * ```
 * @module
 */

import { ProtocolNotAvailable } from "./errors.ts";
import { type BufferLimits, MAX_RING_BYTES } from "./ring.ts";

/** `shutdown`: no more receiving. */
export const SHUT_RD = 0;
/** `shutdown`: no more sending; the peer reads the end of the stream. */
export const SHUT_WR = 1;
/** `shutdown`: neither. */
export const SHUT_RDWR = 2;

/** The level of the socket's own options. */
export const SOL_SOCKET = 1;
/** Let a listener bind a port still held by closing connections (Deno's listeners do). */
export const SO_REUSEADDR = 2;
/** Read only: the pending error's errno, read and cleared; 0 when there is none. */
export const SO_ERROR = 4;
/** The most bytes the send buffer holds. */
export const SO_SNDBUF = 7;
/** The most bytes the receive buffer holds. */
export const SO_RCVBUF = 8;
/** The level of TCP's options. */
export const IPPROTO_TCP = 6;
/** Send small writes at once instead of gathering them (Nagle's algorithm off). */
export const TCP_NODELAY = 1;

/** The smallest buffer size `SO_RCVBUF` and `SO_SNDBUF` take; smaller sizes are raised to it. */
export const MIN_BUFFER_BYTES = 4096;

/**
 * Checks a timeout as Python's `settimeout` does, and returns it: `null`, or a number of
 * seconds, 0 or more. A negative or NaN one is a RangeError (Python's ValueError) with
 * Python's message.
 *
 * @example
 * ```ts
 * import { checkTimeout } from "./options.ts";
 * console.log(checkTimeout(1.5), checkTimeout(null)); // 1.5 null
 * ```
 */
export function checkTimeout(seconds: number | null): number | null {
  if (seconds === null) return null;
  if (typeof seconds !== "number") {
    throw new TypeError(`timeout must be a number of seconds or null, not ${typeof seconds}`);
  }
  if (Number.isNaN(seconds)) throw new RangeError("Invalid value NaN (not a number)");
  if (seconds < 0) throw new RangeError("Timeout value out of range");
  if (seconds === Infinity) throw new RangeError("timestamp out of range for platform time_t");
  return seconds;
}

let defaultTimeout: number | null = null;

/**
 * The timeout of every socket made from now on, and of every socket `accept` returns:
 * Python's `socket.setdefaulttimeout`. `null` (the default) is blocking.
 *
 * @example
 * ```ts
 * import { setDefaultTimeout } from "./options.ts";
 * setDefaultTimeout(5);
 * setDefaultTimeout(null);
 * ```
 */
export function setDefaultTimeout(seconds: number | null): void {
  defaultTimeout = checkTimeout(seconds);
}

/**
 * The timeout new sockets start with: Python's `socket.getdefaulttimeout()`.
 *
 * @example
 * ```ts
 * import { getDefaultTimeout } from "./options.ts";
 * console.log(getDefaultTimeout()); // null
 * ```
 */
export function getDefaultTimeout(): number | null {
  return defaultTimeout;
}

/**
 * The default size limit of each of a connection's two buffers, in bytes.
 *
 * @example
 * ```ts
 * import { DEFAULT_BUFFER_BYTES } from "./options.ts";
 * console.log(DEFAULT_BUFFER_BYTES); // 1048576
 * ```
 */
export const DEFAULT_BUFFER_BYTES: number = MAX_RING_BYTES;

/**
 * A socket's options, as `getSockOpt` and `setSockOpt` see them. `SO_ERROR` is the
 * socket's own (its pending error), so the socket answers it.
 *
 * @example
 * ```ts
 * import { SocketOptions, SOL_SOCKET, SO_RCVBUF } from "./options.ts";
 * const options = new SocketOptions();
 * options.set(SOL_SOCKET, SO_RCVBUF, 10000);
 * console.log(options.get(SOL_SOCKET, SO_RCVBUF)); // 16384
 * ```
 */
export class SocketOptions {
  /** `SO_REUSEADDR`, 0 or 1. */
  reuseAddress = 0;
  /** `TCP_NODELAY`, 0 or 1. */
  noDelay = 0;
  /** `SO_RCVBUF` and `SO_SNDBUF`: the rings' limits. */
  readonly buffers: BufferLimits = { receive: DEFAULT_BUFFER_BYTES, send: DEFAULT_BUFFER_BYTES };

  /** The options a connection accepted by a listener with these options starts with. */
  copy(): SocketOptions {
    const copy = new SocketOptions();
    copy.reuseAddress = this.reuseAddress;
    copy.noDelay = this.noDelay;
    copy.buffers.receive = this.buffers.receive;
    copy.buffers.send = this.buffers.send;
    return copy;
  }

  /** An option's value; `ProtocolNotAvailable` (ENOPROTOOPT) for one this layer lacks. */
  get(level: number, name: number): number {
    if (level === SOL_SOCKET && name === SO_REUSEADDR) return this.reuseAddress;
    if (level === SOL_SOCKET && name === SO_RCVBUF) return this.buffers.receive;
    if (level === SOL_SOCKET && name === SO_SNDBUF) return this.buffers.send;
    if (level === IPPROTO_TCP && name === TCP_NODELAY) return this.noDelay;
    throw new ProtocolNotAvailable();
  }

  /**
   * Sets an option. Flags read back as 0 or 1, as Linux stores them. A buffer size is
   * rounded up to a power of two from {@linkcode MIN_BUFFER_BYTES} to the default (and
   * largest) size, and read back so; it bounds how far the buffer grows from then on,
   * and how many bytes one `recv` or `send` moves.
   */
  set(level: number, name: number, value: number): void {
    if (!Number.isInteger(value)) {
      throw new TypeError(`an option's value must be an integer, not ${String(value)}`);
    }
    if (level === SOL_SOCKET && name === SO_REUSEADDR) this.reuseAddress = value ? 1 : 0;
    else if (level === SOL_SOCKET && name === SO_RCVBUF) this.buffers.receive = bufferSize(value);
    else if (level === SOL_SOCKET && name === SO_SNDBUF) this.buffers.send = bufferSize(value);
    else if (level === IPPROTO_TCP && name === TCP_NODELAY) this.noDelay = value ? 1 : 0;
    else throw new ProtocolNotAvailable();
  }
}

/** A buffer size as the rings can have it: a power of two, within their bounds. */
function bufferSize(bytes: number): number {
  let size = MIN_BUFFER_BYTES;
  while (size < bytes && size < MAX_RING_BYTES) size *= 2;
  return size;
}
