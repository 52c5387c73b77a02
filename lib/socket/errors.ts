/**
 * Socket errors, one class per failure, each carrying the POSIX errno it stands for.
 *
 * Messages read the way Python prints an `OSError`: `[Errno 111] Connection refused`.
 *
 * @example
 * ```ts
 * import { ConnectionRefused, SocketError } from "./errors.ts";
 * const error: SocketError = new ConnectionRefused();
 * console.log(error.code, error.errno, error.message); // ECONNREFUSED 111 [Errno 111] Connection refused
 * ```
 * @module
 */

/** Linux errno numbers and their texts, for the errors this layer can raise. */
const ERRNO_TABLE: Record<string, [number, string]> = {
  EBADF: [9, "Bad file descriptor"],
  EWOULDBLOCK: [11, "Resource temporarily unavailable"],
  EACCES: [13, "Permission denied"],
  ENFILE: [23, "Too many open files in system"],
  EMFILE: [24, "Too many open files"],
  EINVAL: [22, "Invalid argument"],
  EPIPE: [32, "Broken pipe"],
  EADDRINUSE: [98, "Address already in use"],
  EADDRNOTAVAIL: [99, "Cannot assign requested address"],
  ENETUNREACH: [101, "Network is unreachable"],
  ECONNABORTED: [103, "Software caused connection abort"],
  ECONNRESET: [104, "Connection reset by peer"],
  EISCONN: [106, "Transport endpoint is already connected"],
  ENOTCONN: [107, "Transport endpoint is not connected"],
  ENOPROTOOPT: [92, "Protocol not available"],
  ETIMEDOUT: [110, "Connection timed out"],
  ECONNREFUSED: [111, "Connection refused"],
  EHOSTUNREACH: [113, "No route to host"],
  EALREADY: [114, "Operation already in progress"],
  EINPROGRESS: [115, "Operation now in progress"],
  EIO: [5, "Input/output error"],
  EAI_NONAME: [-2, "Name or service not known"],
};

/** The errno name for a Linux errno number, or `EIO` for one this layer does not know. */
export function errnoName(errno: number): string {
  for (const [name, [number]] of Object.entries(ERRNO_TABLE)) {
    if (number === errno) return name;
  }
  return "EIO";
}

/**
 * The base of every socket error: an `OSError` with an errno.
 *
 * @example
 * ```ts
 * import { SocketError } from "./errors.ts";
 * try {
 *   throw SocketError.fromCode("EPIPE");
 * } catch (error) {
 *   if (error instanceof SocketError && error.code === "EPIPE") console.log("peer has gone");
 * }
 * ```
 */
export class SocketError extends Error {
  /** The errno number, as Linux numbers it (`111` for ECONNREFUSED). */
  readonly errno: number;
  /** The errno name, such as `"ECONNREFUSED"`. */
  readonly code: string;

  /**
   * Makes the error: its message is `[Errno N]`, then `detail` or the errno's own text.
   *
   * @param code the errno name, such as `"ECONNREFUSED"` (unknown names become EIO)
   * @param detail a text in place of the errno's own, after `[Errno N]`
   * @param message the whole message instead, for an error Python prints without errno
   */
  constructor(code: string, detail?: string, message?: string) {
    const [errno, text] = ERRNO_TABLE[code] ?? ERRNO_TABLE.EIO;
    super(message ?? `[Errno ${errno}] ${detail ?? text}`);
    this.errno = errno;
    this.code = code in ERRNO_TABLE ? code : "EIO";
    this.name = new.target.name;
  }

  /** The error of the right class for an errno name such as `"ECONNRESET"`. */
  static fromCode(code: string, detail?: string): SocketError {
    const ErrorClass = ERROR_CLASSES[code];
    return ErrorClass ? new ErrorClass(detail) : new SocketError(code, detail);
  }
}

type SpecificError = new (detail?: string) => SocketError;

/** A call that would have to wait, on a non-blocking socket (Python's `BlockingIOError`). */
export class BlockingIOError extends SocketError {}
/** EWOULDBLOCK: nothing to read, no room to write, or no connection waiting, right now. */
export class WouldBlock extends BlockingIOError {
  /** Makes the error: its message is `[Errno N]`, then `detail` or the errno's own text. */
  constructor(detail?: string) {
    super("EWOULDBLOCK", detail);
  }
}
/** EINPROGRESS: a non-blocking connect has started; writability will tell how it ended. */
export class InProgress extends BlockingIOError {
  /** Makes the error: its message is `[Errno N]`, then `detail` or the errno's own text. */
  constructor(detail?: string) {
    super("EINPROGRESS", detail);
  }
}
/** EALREADY: a non-blocking connect is still under way. */
export class AlreadyInProgress extends BlockingIOError {
  /** Makes the error: its message is `[Errno N]`, then `detail` or the errno's own text. */
  constructor(detail?: string) {
    super("EALREADY", detail);
  }
}
/** ECONNREFUSED: nothing listens at that address. */
export class ConnectionRefused extends SocketError {
  /** Makes the error: its message is `[Errno N]`, then `detail` or the errno's own text. */
  constructor(detail?: string) {
    super("ECONNREFUSED", detail);
  }
}
/** ECONNRESET: the peer reset the connection. */
export class ConnectionReset extends SocketError {
  /** Makes the error: its message is `[Errno N]`, then `detail` or the errno's own text. */
  constructor(detail?: string) {
    super("ECONNRESET", detail);
  }
}
/** ECONNABORTED: the connection was aborted on this side. */
export class ConnectionAborted extends SocketError {
  /** Makes the error: its message is `[Errno N]`, then `detail` or the errno's own text. */
  constructor(detail?: string) {
    super("ECONNABORTED", detail);
  }
}
/** EPIPE: writing to a connection whose peer has gone. */
export class BrokenPipe extends SocketError {
  /** Makes the error: its message is `[Errno N]`, then `detail` or the errno's own text. */
  constructor(detail?: string) {
    super("EPIPE", detail);
  }
}
/** EADDRINUSE: something already listens on that address. */
export class AddressInUse extends SocketError {
  /** Makes the error: its message is `[Errno N]`, then `detail` or the errno's own text. */
  constructor(detail?: string) {
    super("EADDRINUSE", detail);
  }
}
/** EADDRNOTAVAIL: the address is not one of this machine's. */
export class AddressNotAvailable extends SocketError {
  /** Makes the error: its message is `[Errno N]`, then `detail` or the errno's own text. */
  constructor(detail?: string) {
    super("EADDRNOTAVAIL", detail);
  }
}
/** EBADF: the socket is closed. */
export class BadDescriptor extends SocketError {
  /** Makes the error: its message is `[Errno N]`, then `detail` or the errno's own text. */
  constructor(detail?: string) {
    super("EBADF", detail);
  }
}
/** ENOTCONN: the socket is not connected. */
export class NotConnected extends SocketError {
  /** Makes the error: its message is `[Errno N]`, then `detail` or the errno's own text. */
  constructor(detail?: string) {
    super("ENOTCONN", detail);
  }
}
/** EISCONN: the socket is already connected. */
export class AlreadyConnected extends SocketError {
  /** Makes the error: its message is `[Errno N]`, then `detail` or the errno's own text. */
  constructor(detail?: string) {
    super("EISCONN", detail);
  }
}
/** ETIMEDOUT: the connection timed out. */
export class TimedOut extends SocketError {
  /** Makes the error: its message is `[Errno N]`, then `detail` or the errno's own text. */
  constructor(detail?: string) {
    super("ETIMEDOUT", detail);
  }
}
/** EINVAL: an argument, or the socket's state, does not fit the call. */
export class InvalidArgument extends SocketError {
  /** Makes the error: its message is `[Errno N]`, then `detail` or the errno's own text. */
  constructor(detail?: string) {
    super("EINVAL", detail);
  }
}
/** EACCES: not allowed (a privileged port, or Deno's permissions). */
export class PermissionDenied extends SocketError {
  /** Makes the error: its message is `[Errno N]`, then `detail` or the errno's own text. */
  constructor(detail?: string) {
    super("EACCES", detail);
  }
}
/** EMFILE: the process has as many files open as its limit (`ulimit -n`) allows. */
export class TooManyOpenFiles extends SocketError {
  /** Makes the error: its message is `[Errno N]`, then `detail` or the errno's own text. */
  constructor(detail?: string) {
    super("EMFILE", detail);
  }
}
/** ENOPROTOOPT: a socket option this layer does not have (`getSockOpt`, `setSockOpt`). */
export class ProtocolNotAvailable extends SocketError {
  /** Makes the error: its message is `[Errno N]`, then `detail` or the errno's own text. */
  constructor(detail?: string) {
    super("ENOPROTOOPT", detail);
  }
}

/**
 * A call on a socket in timeout mode (`setTimeout(seconds)`) that ran out of time:
 * Python's `socket.timeout`, which is `TimeoutError`, with its message, `timed out`.
 * Python's has no errno (`None`); this one's `code` and `errno` are ETIMEDOUT's (110),
 * so that code reading them finds a number, but its message has no `[Errno]`.
 *
 * @example
 * ```ts ignore
 * import { Socket, SocketTimeout } from "./mod.ts";
 * const socket = new Socket();
 * socket.connect(["127.0.0.1", 10000]);
 * socket.setTimeout(0.5);
 * try {
 *   socket.recv(1024);
 * } catch (error) {
 *   if (error instanceof SocketTimeout) console.log(error.message); // timed out
 * }
 * ```
 */
export class SocketTimeout extends SocketError {
  /** Makes the error, whose message is Python's: `timed out`. */
  constructor() {
    super("ETIMEDOUT", undefined, "timed out");
  }
}

/**
 * A host name that does not resolve: Python's `socket.gaierror`, with its errno (-2,
 * `EAI_NONAME`) and its message, `[Errno -2] Name or service not known`. The host it
 * was looking up is in `host`.
 *
 * @example
 * ```ts ignore
 * import { AddressLookupError, Socket } from "./mod.ts";
 * try {
 *   new Socket().connect(["no such host", 80]);
 * } catch (error) {
 *   if (error instanceof AddressLookupError) console.log(error.host, error.message);
 *   // no such host [Errno -2] Name or service not known
 * }
 * ```
 */
export class AddressLookupError extends SocketError {
  /** The host name that did not resolve ("" when not known). */
  host = "";

  /** Makes the error: its message is `[Errno N]`, then `detail` or the errno's own text. */
  constructor(detail?: string) {
    super("EAI_NONAME", detail);
  }
}

const ERROR_CLASSES: Record<string, SpecificError> = {
  EWOULDBLOCK: WouldBlock,
  EINPROGRESS: InProgress,
  EALREADY: AlreadyInProgress,
  ECONNREFUSED: ConnectionRefused,
  ECONNRESET: ConnectionReset,
  ECONNABORTED: ConnectionAborted,
  EPIPE: BrokenPipe,
  EADDRINUSE: AddressInUse,
  EADDRNOTAVAIL: AddressNotAvailable,
  EBADF: BadDescriptor,
  ENOTCONN: NotConnected,
  EISCONN: AlreadyConnected,
  ETIMEDOUT: TimedOut,
  EINVAL: InvalidArgument,
  EACCES: PermissionDenied,
  EMFILE: TooManyOpenFiles,
  EAI_NONAME: AddressLookupError,
  ENOPROTOOPT: ProtocolNotAvailable,
};

/**
 * The errno name for an error thrown by `Deno.listen`, `Deno.connect` or a `Deno.Conn`.
 *
 * @example
 * ```ts
 * import { codeOfDenoError } from "./errors.ts";
 * console.log(codeOfDenoError(new Deno.errors.ConnectionRefused("refused"))); // ECONNREFUSED
 * ```
 */
export function codeOfDenoError(error: unknown): string {
  const byClass: [new (...args: never[]) => Error, string][] = [
    [Deno.errors.ConnectionRefused, "ECONNREFUSED"],
    [Deno.errors.ConnectionReset, "ECONNRESET"],
    [Deno.errors.ConnectionAborted, "ECONNABORTED"],
    [Deno.errors.BrokenPipe, "EPIPE"],
    [Deno.errors.AddrInUse, "EADDRINUSE"],
    [Deno.errors.AddrNotAvailable, "EADDRNOTAVAIL"],
    [Deno.errors.NotConnected, "ENOTCONN"],
    [Deno.errors.TimedOut, "ETIMEDOUT"],
    [Deno.errors.PermissionDenied, "EACCES"],
    [Deno.errors.NotCapable, "EACCES"],
    [Deno.errors.BadResource, "EBADF"],
  ];
  for (const [ErrorClass, code] of byClass) {
    if (error instanceof ErrorClass) return code;
  }
  const message = error instanceof Error ? error.message : String(error);
  const osError = /os error (-?\d+)/.exec(message);
  if (osError) return errnoName(Number(osError[1]));
  // A name Deno's resolver cannot look up, or will not (a space in it, a label too
  // long, a ":"): getaddrinfo's EAI_NONAME.
  if (/lookup|resolve|not known|invalid host|FQDN/i.test(message)) return "EAI_NONAME";
  return "EIO";
}

/**
 * What every would-block error shares: its message, and a stack that is only that line.
 * Non-blocking code expects this error, often thousands of times a second, and never
 * prints it; building a real `Error` would cost most of a non-blocking call, and this
 * one costs a small part of that (bench/RESULTS.md).
 */
const WOULD_BLOCK_MODEL = new WouldBlock();
const WOULD_BLOCK_TEMPLATE: WouldBlock = Object.create(WouldBlock.prototype, {
  message: { value: WOULD_BLOCK_MODEL.message, writable: true, configurable: true },
  stack: {
    value: `${WOULD_BLOCK_MODEL.name}: ${WOULD_BLOCK_MODEL.message}`,
    writable: true,
    configurable: true,
  },
});

/**
 * A WouldBlock error, an `instanceof WouldBlock` like any other, made cheaply: what a
 * non-blocking call throws when it would have to wait.
 *
 * @example
 * ```ts
 * import { cheapWouldBlock, WouldBlock } from "./errors.ts";
 * console.log(cheapWouldBlock() instanceof WouldBlock); // true
 * ```
 */
export function cheapWouldBlock(): WouldBlock {
  return Object.assign(Object.create(WOULD_BLOCK_TEMPLATE), {
    errno: WOULD_BLOCK_MODEL.errno,
    code: WOULD_BLOCK_MODEL.code,
    name: WOULD_BLOCK_MODEL.name,
  });
}
