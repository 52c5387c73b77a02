/**
 * A socket's header: its state, flags and addresses, shared by the main thread and the
 * I/O worker. It is an `Int32Array` over a slot of {@linkcode HEADER_BYTES} in a slab
 * (`memory.ts`); its rings' cells are laid out in `ring.ts`, in the same header. An
 * {@linkcode Address} is checked here ({@linkcode checkAddress}) against the room its
 * host has in a header.
 *
 * @example
 * ```ts
 * import { HEADER, HEADER_BYTES, STATE } from "./header.ts";
 * const header = new Int32Array(new SharedArrayBuffer(HEADER_BYTES));
 * Atomics.store(header, HEADER.STATE, STATE.CONNECTED);
 * ```
 * @module
 */

/** Where a socket's header is: a slab's number and a byte offset in it (`memory.ts`). */
export interface HeaderPlace {
  /** The slab's number. */
  slab: number;
  /** The header's first byte in the slab. */
  offset: number;
}

/** The cells of a header (indices into its `Int32Array`); 8 to 24 are the rings' (`ring.ts`). */
export const HEADER = {
  /** The socket's state: one of the {@linkcode STATE} values. */
  STATE: 0,
  /** The pending error, an errno number (0 for none), reported once. */
  ERRNO: 1,
  /** The end-of-stream flag: the peer will send no more. */
  EOF: 2,
  /** The broken flag: the connection is gone; sends fail. */
  BROKEN: 3,
  /** A listener's count of connections waiting to be accepted. */
  PENDING: 4,
  /** Set while the socket sits in the queue of changes (`queue.ts`). */
  QUEUED: 5,
  /** Set by the worker once it is done with the socket and its memory. */
  RELEASED: 6,
  /** The errno of a listener whose accept found no descriptor left (0: none). */
  NO_DESCRIPTOR: 7,
  /** The local port. */
  LOCAL_PORT: 28,
  /** The peer's port (before a connect: the port to connect to). */
  PEER_PORT: 29,
  /** The length of the local host text, in bytes. */
  LOCAL_HOST_LENGTH: 30,
  /** The length of the peer's host text, in bytes. */
  PEER_HOST_LENGTH: 31,
} as const;

/** A socket's states. */
export const STATE = {
  /** Nobody has bound or connected it yet. */
  FRESH: 0,
  /** The worker is binding it. */
  BINDING: 1,
  /** Bound (and, as `Deno.listen` does both, listening in the kernel). */
  BOUND: 2,
  /** Accepting connections. */
  LISTENING: 3,
  /** A connect is under way (or, for a spare, the connection it will start in). */
  CONNECTING: 4,
  /** Connected. */
  CONNECTED: 5,
  /** The connect failed; the error is in `HEADER.ERRNO`. */
  FAILED: 6,
  /** The worker has closed the listener for good: its port is free again. */
  CLOSED: 7,
} as const;

/** Byte offset of the local host text (an address, as Deno gives it). */
const LOCAL_HOST_OFFSET = 128;
/** Room for the local host text, in bytes: an IPv6 address takes at most 45. */
const LOCAL_HOST_BYTES = 128;
/** Byte offset of the peer's host text: the name to connect to, then the peer's address. */
const PEER_HOST_OFFSET = 256;
/** Room for the peer's host text, in bytes: the longest host name fits whole. */
const PEER_HOST_BYTES = 256;
/** The longest host name, in bytes, as DNS allows it. */
export const MAX_HOST_BYTES = 253;
/** Size of a socket's header, in bytes. */
export const HEADER_BYTES = 512;

/**
 * The two addresses of a header: the local one, and the peer's.
 *
 * @example
 * ```ts ignore
 * const which: AddressOf = "peer";
 * ```
 */
export type AddressOf = "local" | "peer";

/** Each address's host text (its offset, its room, its length's cell) and port cell. */
const ADDRESSES = {
  local: [LOCAL_HOST_OFFSET, LOCAL_HOST_BYTES, HEADER.LOCAL_HOST_LENGTH, HEADER.LOCAL_PORT],
  peer: [PEER_HOST_OFFSET, PEER_HOST_BYTES, HEADER.PEER_HOST_LENGTH, HEADER.PEER_PORT],
} as const;

/**
 * Writes an address into a header: its host text, whole, with its length, and its
 * port. The main thread refuses a host longer than {@linkcode MAX_HOST_BYTES} before it
 * gets here ({@linkcode checkAddress}).
 *
 * @example
 * ```ts
 * import { HEADER_BYTES, loadAddress, storeAddress } from "./header.ts";
 * const header = new Int32Array(new SharedArrayBuffer(HEADER_BYTES));
 * storeAddress(header, "peer", ["example.com", 80]);
 * console.log(loadAddress(header, "peer")); // ["example.com", 80]
 * ```
 */
export function storeAddress(header: Int32Array, which: AddressOf, [host, port]: Address): void {
  const [offset, room, lengthCell, portCell] = ADDRESSES[which];
  const encoded = new TextEncoder().encode(host);
  if (encoded.length > room) throw new RangeError(`host text too long for its room: ${host}`);
  new Uint8Array(header.buffer, header.byteOffset, HEADER_BYTES).set(encoded, offset);
  Atomics.store(header, lengthCell, encoded.length);
  Atomics.store(header, portCell, port);
}

/**
 * Reads an address out of a header (an empty host and port 0 when none was written).
 *
 * @example
 * ```ts
 * import { HEADER_BYTES, loadAddress } from "./header.ts";
 * console.log(loadAddress(new Int32Array(new SharedArrayBuffer(HEADER_BYTES)), "local")); // ["", 0]
 * ```
 */
export function loadAddress(header: Int32Array, which: AddressOf): Address {
  const [offset, , lengthCell, portCell] = ADDRESSES[which];
  const start = header.byteOffset + offset;
  const bytes = new Uint8Array(header.buffer).slice(
    start,
    start + Atomics.load(header, lengthCell),
  );
  return [new TextDecoder().decode(bytes), Atomics.load(header, portCell)];
}

/**
 * An address, as Python writes one: `["127.0.0.1", 10000]`. Its host is carried to the
 * worker in a header's host text.
 *
 * @example
 * ```ts
 * import type { Address } from "./header.ts";
 * const server: Address = ["127.0.0.1", 10000];
 * ```
 */
export type Address = [host: string, port: number];

/**
 * Checks an address a caller gives `bind` or `connect`: a port from 0 to 65535, a host
 * of at most {@linkcode MAX_HOST_BYTES} bytes (a RangeError otherwise). Returns it with
 * an empty host meaning any address, `0.0.0.0`, as in Python.
 *
 * @example
 * ```ts
 * import { checkAddress } from "./header.ts";
 * console.log(checkAddress(["", 8000])); // ["0.0.0.0", 8000]
 * ```
 */
export function checkAddress(address: Address): Address {
  const [host, port] = address;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`port must be 0-65535, not ${port}`);
  }
  const bytes = new TextEncoder().encode(host).length;
  if (bytes > MAX_HOST_BYTES) {
    throw new RangeError(`host name too long: ${bytes} bytes, at most ${MAX_HOST_BYTES}`);
  }
  return [host === "" ? "0.0.0.0" : host, port];
}
