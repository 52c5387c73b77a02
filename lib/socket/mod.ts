/**
 * The socket layer: POSIX-style TCP sockets for Deno, with real blocking and
 * non-blocking calls, `select`, `poll` and a blocking `sleep`, as Python's `socket`,
 * `select` and `time` modules give them.
 *
 * Deno's own sockets are promise-based: nothing in them blocks, and nothing fails with
 * EWOULDBLOCK. Those are exactly what Part 2 of the article is about, so this layer
 * rebuilds them: an I/O worker (`kernel.ts`) owns the real `Deno.Conn` objects and
 * buffers their bytes in shared memory; a blocking call waits with `Atomics.wait`, which
 * really stops the thread, timers and all. Programs that use it need `-N` and `-R`.
 *
 * Beyond what the lessons use, it has the calls of Python's socket documentation, named
 * in camelCase, with Python's semantics and errors: `setTimeout`/`getTimeout` (and
 * `SocketTimeout`, `timed out`), `shutdown`, `connectEx`, `setSockOpt`/`getSockOpt`,
 * `recvInto`, `createConnection`, and `using` for Python's `with`.
 *
 * @example
 * ```ts
 * import { select, Socket, WouldBlock } from "./mod.ts";
 * const socket = new Socket();
 * socket.connect(["127.0.0.1", 10000]); // blocks until connected
 * socket.setBlocking(false);
 * const chunks: Uint8Array[] = [];
 * for (;;) {
 *   select([socket], [], []); // blocks until there is something to read
 *   try {
 *     const bytes = socket.recv(65536);
 *     if (bytes.length === 0) break; // the server closed the connection
 *     chunks.push(bytes);
 *   } catch (error) {
 *     if (!(error instanceof WouldBlock)) throw error;
 *   }
 * }
 * socket.close();
 * ```
 * @module
 */

export { Socket } from "./socket.ts";
export { type Address } from "./header.ts";
export {
  type HasFileno,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLNVAL,
  POLLOUT,
  POLLPRI,
} from "./readiness.ts";
export { sleep } from "./blocking.ts";
export { wakeUp } from "./waits.ts";
export { createConnection, socketPair } from "./connections.ts";
export {
  DEFAULT_BUFFER_BYTES,
  getDefaultTimeout,
  IPPROTO_TCP,
  setDefaultTimeout,
  SHUT_RD,
  SHUT_RDWR,
  SHUT_WR,
  SO_ERROR,
  SO_RCVBUF,
  SO_REUSEADDR,
  SO_SNDBUF,
  SOL_SOCKET,
  TCP_NODELAY,
} from "./options.ts";
export { NotRegistered, Poll, select, selectAsync, type SelectResult } from "./select.ts";
// The error classes, and the errno names; the helpers that make errors stay inside.
export {
  AddressInUse,
  AddressLookupError,
  AddressNotAvailable,
  AlreadyConnected,
  AlreadyInProgress,
  BadDescriptor,
  BlockingIOError,
  BrokenPipe,
  ConnectionAborted,
  ConnectionRefused,
  ConnectionReset,
  errnoName,
  InProgress,
  InvalidArgument,
  NotConnected,
  PermissionDenied,
  ProtocolNotAvailable,
  SocketError,
  SocketTimeout,
  TimedOut,
  TooManyOpenFiles,
  WouldBlock,
} from "./errors.ts";
