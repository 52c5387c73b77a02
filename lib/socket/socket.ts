/**
 * TCP sockets with the semantics of POSIX sockets: calls that really block the thread,
 * non-blocking calls that fail with EWOULDBLOCK, descriptors handed out lowest first.
 * This module is the POSIX API only; the mechanisms beneath it each have their own:
 * `socket_memory.ts`, `header.ts` and `ring.ts` (a socket's shared memory, its state
 * and addresses, its bytes), `requests.ts` (what the worker is asked), `blocking.ts`
 * (the loop of every call that waits, and `sleep`) over `waits.ts` (the worker's news),
 * `link.ts` (the worker itself), `permissions.ts` (net access), `descriptors.ts` (the
 * table of sockets), `options.ts` (timeouts and socket options), `readiness.ts` (what
 * `poll` reports). The worker, the Deno side, is `kernel.ts`.
 *
 * The worker never keeps the program alive by itself: only real waiting does (a blocking
 * call holds the thread; an async wait holds a timer while it is pending). When the
 * program ends with sockets still open, bytes already sent are delivered first, then
 * the connections end, as when the operating system closes what a process left open.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * const server = new Socket();
 * server.bind(["127.0.0.1", 0]);
 * server.listen(5);
 * const client = new Socket();
 * client.connect(server.getSockName()); // blocks until connected
 * const [connection] = server.accept(); // blocks until a client is there
 * connection.sendAll(new TextEncoder().encode("hello"));
 * connection.close();
 * console.log(new TextDecoder().decode(client.recv(1024))); // hello
 * client.close();
 * server.close();
 * ```
 * @module
 */

import { AGAIN, type Attempt, runCall, type WaitingCall, waitWhile } from "./blocking.ts";
import {
  deliverUnsentBytesAtExit,
  enterSocket,
  forgetId,
  freeFd,
  freeFdWithinLimit,
  freeReleasedMemory,
  localChangeListeners,
  registerFd,
  releaseLater,
} from "./descriptors.ts";
import {
  AddressLookupError,
  BadDescriptor,
  BrokenPipe,
  errnoName,
  InProgress,
  InvalidArgument,
  NotConnected,
  SocketError,
  SocketTimeout,
} from "./errors.ts";
import { type Address, checkAddress, HEADER, loadAddress, STATE, storeAddress } from "./header.ts";
import { kernelDead, makeControl, requireKernel, startKernelEarly } from "./link.ts";
import {
  checkTimeout,
  getDefaultTimeout,
  SHUT_RD,
  SHUT_RDWR,
  SHUT_WR,
  SO_ERROR,
  SocketOptions,
  SOL_SOCKET,
} from "./options.ts";
import { requireNetAccess } from "./permissions.ts";
import {
  connectionReadiness,
  type HasFileno,
  listenerReadiness,
  POLLHUP,
  POLLNVAL,
  POLLOUT,
} from "./readiness.ts";
import { request, wakeSender } from "./requests.ts";
import type { ConnectionRings } from "./ring.ts";
import { SocketMemory } from "./socket_memory.ts";
import { ANSWER_SPIN_MS } from "./waits.ts";
import { laneOfFd, traceInstant, tracing } from "../trace/mod.ts";

makeControl();

/** Set while a listener makes a spare, which has no descriptor until it is accepted. */
let makingSpare = false;

/** How many connection sockets a listener keeps ahead with the worker (see `accept`). */
const SPARE_CONNECTIONS = 2;

// ---------------------------------------------------------------------------
// The socket.

type Role = "fresh" | "listener" | "stream";

/**
 * A TCP stream socket.
 *
 * Blocking by default: `connect`, `accept`, `recv`, `send` and `sendAll` block the
 * calling thread until they can finish. After `setBlocking(false)` they never wait:
 * they fail with `WouldBlock` (EWOULDBLOCK) instead, and `connect` with `InProgress`.
 * After `setTimeout(seconds)` they block at most that long, then fail with
 * `SocketTimeout`. It is Python's `socket.socket()`, with its calls in camelCase.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { WouldBlock } from "./errors.ts";
 * const socket = new Socket();
 * socket.connect(["127.0.0.1", 10000]);
 * socket.setBlocking(false);
 * try {
 *   console.log(socket.recv(1024).length, "bytes");
 * } catch (error) {
 *   if (!(error instanceof WouldBlock)) throw error; // nothing has arrived yet
 * }
 * socket.close();
 * ```
 */
export class Socket implements HasFileno {
  #fd: number;
  readonly #id: number;
  /** Python's three modes: `null` blocks, `0` never waits, seconds block at most that long. */
  #timeout: number | null = getDefaultTimeout();
  #options = new SocketOptions();
  /** Set by shutdown(SHUT_RD): with nothing buffered, `recv` gives the end of stream. */
  #readShut = false;
  /** Set by shutdown(SHUT_WR): sends fail with `BrokenPipe`. */
  #writeShut = false;
  #role: Role = "fresh";
  #adopted = false;
  /** The header shared with the worker, and the rings once it has some. */
  readonly #memory: SocketMemory;
  /** The header shared with the worker (`header.ts`, `ring.ts`). */
  readonly header: Int32Array;
  /** The host last given to `bind` or `connect`: the one a failed lookup names. */
  #lookedUpHost = "";
  /** Set from the start of a connect until it is seen to end (for the trace). */
  #connecting = false;

  /**
   * Connections made ahead for `accept` (a listener's only): the worker starts each
   * connection it accepts in the oldest, so `accept` finds it ready, without a round trip.
   */
  #spares: Socket[] = [];

  /** A new socket, with the lowest free descriptor; `TooManyOpenFiles` (EMFILE) past the open-files limit. */
  constructor() {
    const fd = makingSpare ? -1 : freeFdWithinLimit();
    this.#fd = fd;
    this.#id = enterSocket(this);
    this.#memory = new SocketMemory(); // after the descriptor: EMFILE allocates nothing
    this.header = this.#memory.header;
    if (fd >= 0) {
      this.#register(fd);
      if (tracing) traceInstant("open", "socket", laneOfFd(fd), { fd });
    }
  }

  #register(fd: number): void {
    this.#fd = fd;
    registerFd(fd, this);
  }

  /** The descriptor: the lowest free one when the socket was made; -1 once closed. */
  fileno(): number {
    return this.#fd;
  }

  /**
   * Whether calls wait (`true`, the default) or fail with `WouldBlock`: Python's
   * `socket.setblocking()`. `true` is `setTimeout(null)`, and drops a deadline; `false`
   * is `setTimeout(0)`.
   */
  setBlocking(flag: boolean): void {
    this.#open();
    this.#timeout = flag ? null : 0;
  }

  /**
   * Whether the socket is in blocking mode, a deadline or not, as Python's
   * `socket.getblocking()` says: `false` only when its timeout is 0.
   */
  getBlocking(): boolean {
    return this.#timeout !== 0;
  }

  /**
   * Python's `socket.settimeout()`: `null` blocks, `0` makes the socket non-blocking, and
   * a number of seconds blocks with a deadline: then `recv`, `recvInto`, `send`,
   * `accept` and `connect` each wait at most that long, `sendAll` the whole call, and
   * fail with `SocketTimeout` (`timed out`). A negative or NaN timeout is a RangeError.
   *
   * @example
   * ```ts ignore
   * socket.setTimeout(2.5); // recv waits at most 2.5 s, then throws SocketTimeout
   * ```
   */
  setTimeout(seconds: number | null): void {
    const timeout = checkTimeout(seconds);
    this.#open();
    this.#timeout = timeout;
  }

  /** The timeout: `null` blocking, `0` non-blocking, else seconds, as Python's `gettimeout()`. */
  getTimeout(): number | null {
    return this.#timeout;
  }

  /**
   * Binds the socket to a local address; port 0 picks a free port. Deno's listeners
   * bind and listen in one step, so the socket is listening in the kernel from here on,
   * though nothing is accepted before `listen`. (Deno sets `SO_REUSEADDR` on them.)
   */
  bind(address: Address): void {
    this.#open();
    if (this.#role !== "fresh" || this.#adopted) throw new InvalidArgument();
    const [host, port] = checkAddress(address);
    requireNetAccess(host, port);
    requireKernel(deliverUnsentBytesAtExit);
    this.#adopted = true;
    this.#lookedUpHost = host;
    Atomics.store(this.header, HEADER.STATE, STATE.BINDING);
    request({ op: "bind", id: this.#id, header: this.#memory.place(), host, port });
    waitWhile(() => Atomics.load(this.header, HEADER.STATE) === STATE.BINDING);
    const error = this.getPendingError();
    if (error) throw error;
    this.#role = "listener";
  }

  /** Starts accepting connections; at most `backlog` wait to be taken by `accept`. */
  listen(backlog = 128): void {
    if (!Number.isInteger(backlog)) {
      throw new TypeError(`listen: the backlog must be an integer, not ${String(backlog)}`);
    }
    this.#open();
    if (this.#role !== "listener") throw new InvalidArgument();
    if (Atomics.load(this.header, HEADER.STATE) === STATE.LISTENING) return;
    request({ op: "listen", id: this.#id, backlog });
    waitWhile(() => Atomics.load(this.header, HEADER.STATE) === STATE.BOUND);
    while (this.#spares.length < SPARE_CONNECTIONS) this.#offerSpare();
  }

  /**
   * Hands the worker a connection socket (its header and rings, no descriptor yet) to
   * start the next connection it accepts in, as Windows' `AcceptEx` takes one.
   */
  #offerSpare(): void {
    makingSpare = true;
    let spare: Socket;
    try {
      spare = new Socket();
    } finally {
      makingSpare = false;
    }
    spare.#adopted = true;
    spare.#role = "stream";
    // As on Linux, a connection starts with its listener's options (buffer sizes and all).
    spare.#options = this.#options.copy();
    Atomics.store(spare.header, HEADER.STATE, STATE.CONNECTING);
    this.#spares.push(spare);
    request({
      op: "spare",
      id: spare.#id,
      header: spare.#memory.makeRings(spare.#options.buffers),
      listenerId: this.#id,
    });
  }

  /**
   * Takes the next connection: blocks until one comes, or fails with `WouldBlock` in
   * non-blocking mode (`SocketTimeout` in timeout mode). Returns the new connected socket
   * and its peer's address, as Python's `socket.accept()`; the new socket's timeout is
   * the default one (`setDefaultTimeout`), whatever the listener's, as in Python.
   */
  accept(): [Socket, Address] {
    return this.#run("accept", this.#tryAccept);
  }

  #tryAccept: Attempt<[Socket, Address]> = () => {
    this.#open();
    if (Atomics.load(this.header, HEADER.STATE) !== STATE.LISTENING) throw new InvalidArgument();
    const error = this.getPendingError();
    if (error) throw error;
    if (Atomics.load(this.header, HEADER.PENDING) === 0) {
      // A connection waits, but the process has no descriptor left for it.
      const shortage = Atomics.load(this.header, HEADER.NO_DESCRIPTOR);
      if (shortage !== 0) throw errorForErrno(shortage);
      return AGAIN;
    }
    const fd = freeFdWithinLimit();
    Atomics.sub(this.header, HEADER.PENDING, 1);
    // The worker pairs accepted connections with spares in order: this one has the
    // oldest spare, started already or about to be. Another spare takes its place.
    const connection = this.#spares.shift() as Socket;
    this.#offerSpare();
    waitWhile(() => Atomics.load(connection.header, HEADER.STATE) === STATE.CONNECTING);
    connection.#register(fd);
    // As in Python, whatever the listener's timeout: the default one.
    connection.#timeout = getDefaultTimeout();
    const failure = connection.getPendingError();
    if (failure) {
      connection.close();
      throw failure;
    }
    const peer = connection.getPeerName();
    if (tracing) {
      traceInstant("accepted", "socket", laneOfFd(fd), { fd, peer, listener: this.#fd });
    }
    return [connection, peer];
  };

  /**
   * Connects to a server: Python's `socket.connect()`. Blocks until connected, or fails
   * with the reason (`ConnectionRefused`, say). In non-blocking mode it only starts the
   * connection and fails with `InProgress`: the socket turns writable when the attempt
   * ends, and `getPendingError()` then says whether it failed. In timeout mode it fails
   * with `SocketTimeout` when the time is up; the attempt goes on (`AlreadyInProgress`).
   */
  connect(address: Address): void {
    this.#startConnect(address);
    if (this.#timeout === 0) throw new InProgress();
    this.#run(
      "connect",
      () => Atomics.load(this.header, HEADER.STATE) === STATE.CONNECTING ? AGAIN : true,
      ANSWER_SPIN_MS,
    );
    this.#connected();
  }

  #startConnect(address: Address): void {
    this.#open();
    if (this.#role === "listener") throw new InvalidArgument();
    const state = Atomics.load(this.header, HEADER.STATE);
    // After a failed attempt the socket may try again, as on Linux; not while connected.
    if (this.#role === "stream" && state !== STATE.FAILED) {
      throw SocketError.fromCode(state === STATE.CONNECTING ? "EALREADY" : "EISCONN");
    }
    // A failed non-blocking attempt nobody asked about: this call reports it, as on Linux.
    const pending = state === STATE.FAILED ? this.getPendingError() : null;
    if (pending) throw pending;
    const [host, port] = checkAddress(address);
    requireNetAccess(host, port);
    requireKernel(deliverUnsentBytesAtExit);
    this.#role = "stream";
    this.#adopted = true;
    this.#lookedUpHost = host;
    const header = this.#memory.rings
      ? this.#memory.place()
      : this.#memory.makeRings(this.#options.buffers);
    // Where to connect goes where the peer's address will be: the worker reads it there.
    storeAddress(this.header, "peer", [host, port]);
    Atomics.store(this.header, HEADER.ERRNO, 0);
    Atomics.store(this.header, HEADER.STATE, STATE.CONNECTING);
    this.#connecting = true;
    request({ op: "connect", id: this.#id, header });
  }

  /**
   * `connect`, returning its errno instead of throwing it, as Python's
   * `socket.connect_ex()`: 0 when connected, 115 (EINPROGRESS) when a non-blocking
   * connect has started, 111 when refused, 11 when a timeout ran out. A host name that
   * does not resolve still throws (`AddressLookupError`), as in Python.
   *
   * @example
   * ```ts ignore
   * if (socket.connectEx(["127.0.0.1", 10000]) === 111) console.log("nobody listens");
   * ```
   */
  connectEx(address: Address): number {
    try {
      this.connect(address);
      return 0;
    } catch (error) {
      // Python's connect_ex gives EAGAIN (11) when the timeout runs out.
      if (error instanceof SocketTimeout) return SocketError.fromCode("EWOULDBLOCK").errno;
      if (error instanceof SocketError && !(error instanceof AddressLookupError)) {
        return error.errno;
      }
      throw error;
    }
  }

  #connected(): void {
    this.#connecting = false;
    const error = this.getPendingError();
    if (error) throw error;
    if (tracing) this.#traceConnected();
  }

  /** Records that a connect ended well: at once when it blocked, else when first seen. */
  #traceConnected(): void {
    this.#connecting = false;
    const peer = loadAddress(this.header, "peer");
    traceInstant("connected", "socket", laneOfFd(this.#fd), { fd: this.#fd, peer });
  }

  /** While tracing: whether a non-blocking connect has ended well since last seen. */
  #seeConnected(): void {
    if (this.#connecting && Atomics.load(this.header, HEADER.STATE) === STATE.CONNECTED) {
      this.#traceConnected();
    }
  }

  /** While tracing: records the bytes a `recv` took or a send put in the ring. */
  #traceMoved(name: "recv" | "sent", bytes: number): void {
    this.#seeConnected();
    traceInstant(name, "socket", laneOfFd(this.#fd), { fd: this.#fd, bytes });
  }

  /**
   * Returns and clears the pending error, as `getsockopt(SO_ERROR)` does: how a
   * non-blocking connect ended, or why the connection broke. `null` when there is none.
   */
  getPendingError(): SocketError | null {
    this.#open();
    // A plain load first: almost always there is none, and an exchange costs more.
    if (Atomics.load(this.header, HEADER.ERRNO) === 0) return null;
    const errno = Atomics.exchange(this.header, HEADER.ERRNO, 0);
    if (errno === 0) return null;
    const error = errorForErrno(errno);
    if (error instanceof AddressLookupError) error.host = this.#lookedUpHost;
    return error;
  }

  /**
   * Receives at most `max` bytes: Python's `socket.recv()`. Blocks until some have
   * arrived; an empty array means the peer closed the connection. In non-blocking mode,
   * with nothing buffered, fails with `WouldBlock`; in timeout mode, with `SocketTimeout`
   * once the time is up.
   */
  recv(max: number): Uint8Array {
    checkBufferSize(max);
    const bytes = this.#run("recv", () => this.#tryRecv(max));
    if (tracing && max > 0) this.#traceMoved("recv", bytes.length);
    return bytes;
  }

  /**
   * Receives into `buffer`, at most `nbytes` bytes (0, the default: as many as fit), and
   * returns how many came, as Python's `socket.recv_into()`; otherwise as `recv`, with 0
   * for the end of the stream.
   *
   * @example
   * ```ts ignore
   * const buffer = new Uint8Array(4096);
   * const count = socket.recvInto(buffer);
   * console.log(buffer.subarray(0, count));
   * ```
   */
  recvInto(buffer: Uint8Array, nbytes = 0): number {
    if (!Number.isInteger(nbytes)) {
      throw new TypeError(`recvInto: nbytes must be an integer, not ${String(nbytes)}`);
    }
    if (nbytes < 0) throw new RangeError("negative buffersize in recv_into");
    if (nbytes > buffer.length) throw new RangeError("buffer too small for requested bytes");
    const target = nbytes === 0 ? buffer : buffer.subarray(0, nbytes);
    const count = this.#run("recv", () => this.#tryRecvInto(target));
    if (tracing && target.length > 0) this.#traceMoved("recv", count);
    return count;
  }

  #tryRecv(max: number): Uint8Array | typeof AGAIN {
    const rings = this.#connectedRings();
    if (max <= 0) return new Uint8Array(0);
    const bytes = rings.take(max);
    if (bytes) return bytes;
    return this.#atEndOfStream() ? new Uint8Array(0) : AGAIN;
  }

  #tryRecvInto(target: Uint8Array): number | typeof AGAIN {
    const rings = this.#connectedRings();
    if (target.length === 0) return 0;
    const count = rings.takeInto(target);
    if (count > 0) return count;
    return this.#atEndOfStream() ? 0 : AGAIN;
  }

  /** The rings of a connection, to receive from; `NotConnected` when there are none. */
  #connectedRings(): ConnectionRings {
    this.#open();
    const rings = this.#memory.rings;
    if (this.#role !== "stream" || !rings) throw new NotConnected();
    return rings;
  }

  /**
   * With nothing buffered: whether `recv` gives the end of the stream now (the peer
   * closed, the connection broke, or shutdown(SHUT_RD)), or fails (its pending error).
   */
  #atEndOfStream(): boolean {
    const header = this.header;
    if (Atomics.load(header, HEADER.EOF) === 1 || this.#readShut) return true;
    const error = this.getPendingError();
    if (error) throw error;
    if (Atomics.load(header, HEADER.BROKEN) === 1) return true;
    if (Atomics.load(header, HEADER.STATE) === STATE.FAILED) throw new NotConnected();
    return false;
  }

  /**
   * Sends what fits in the send buffer and returns how many bytes it took, possibly
   * fewer than given: Python's `socket.send()`. Blocks while the buffer is full; in
   * non-blocking mode fails with `WouldBlock` instead, in timeout mode with
   * `SocketTimeout` once the time is up. A peer that has gone gives `BrokenPipe` or
   * `ConnectionReset`.
   */
  send(bytes: Uint8Array): number {
    return this.#run("send", () => this.#trySend(bytes));
  }

  /**
   * Sends all the bytes, blocking until the send buffer has taken the last of them:
   * Python's `socket.sendall()`. In non-blocking mode it fails with `WouldBlock` once the
   * buffer is full, whatever it has taken by then; in timeout mode, the timeout is the
   * whole call's (as in Python 3.5 and later).
   */
  sendAll(bytes: Uint8Array): void {
    let offset = 0;
    this.#run("sendAll", () => {
      const count = this.#trySend(bytes.subarray(offset));
      if (count === AGAIN) return AGAIN;
      offset += count;
      // Taking fewer bytes than offered means the buffer is full: wait for room.
      return offset < bytes.length ? AGAIN : offset;
    });
  }

  #trySend(bytes: Uint8Array): number | typeof AGAIN {
    this.#open();
    const rings = this.#memory.rings;
    if (this.#role !== "stream" || !rings) throw new BrokenPipe();
    const header = this.header;
    const state = Atomics.load(header, HEADER.STATE);
    if (state === STATE.CONNECTING) return AGAIN;
    const error = this.getPendingError();
    if (error) throw error;
    if (this.#writeShut) throw new BrokenPipe();
    if (Atomics.load(header, HEADER.BROKEN) === 1 || state !== STATE.CONNECTED) {
      throw new BrokenPipe();
    }
    if (bytes.length === 0) return 0;
    const count = rings.put(bytes);
    if (count === 0) return AGAIN;
    if (rings.callPumpIfWaiting()) wakeSender(this.#id);
    if (tracing) this.#traceMoved("sent", count);
    return count;
  }

  /**
   * Closes the socket. Bytes already sent are still delivered, then the connection
   * closes. The descriptor is free again at once; later calls fail with `BadDescriptor`.
   * Closing twice does nothing.
   */
  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    if (tracing) traceInstant("close", "socket", laneOfFd(fd), { fd });
    freeFd(fd);
    this.#fd = -1;
    const spares = this.#spares.splice(0);
    for (const socket of [this, ...spares]) forgetId(socket.#id);
    if (this.#adopted && !kernelDead()) {
      // The spares go first: a connection started in one and not yet accepted is closed.
      for (const spare of spares) {
        request({ op: "close", id: spare.#id });
        releaseLater(spare.#memory);
      }
      request({ op: "close", id: this.#id });
      // Its memory is reused once the worker is done with it (bytes still to send, say).
      releaseLater(this.#memory);
      if (this.#role === "listener") {
        // As with a kernel, the port is free once close() returns: wait for the worker.
        waitWhile(() => Atomics.load(this.header, HEADER.STATE) !== STATE.CLOSED);
      }
    } else if (!this.#adopted) {
      this.#memory.freeMemory();
    }
    freeReleasedMemory();
    for (const listener of localChangeListeners) listener(this, fd);
  }

  /** Closes the socket at the end of a `using` block, as Python's `with` does. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Shuts down one direction of a connection, or both, as Python's `socket.shutdown()`:
   * `SHUT_WR` sends the end of the stream once the bytes already sent have gone (the
   * peer's `recv` then gives an empty array), and later sends fail with `BrokenPipe`;
   * `SHUT_RD` makes `recv` give an empty array once what is buffered has been read
   * (bytes that still come are kept, as on Linux); `SHUT_RDWR` does both. The socket
   * stays open until `close`. `NotConnected` (ENOTCONN) on a socket that is not connected.
   *
   * @example
   * ```ts ignore
   * socket.sendAll(request);
   * socket.shutdown(SHUT_WR); // "that is all": the server reads to the end, then answers
   * const answer = socket.recv(65536);
   * ```
   */
  shutdown(how: number): void {
    this.#open();
    if (how !== SHUT_RD && how !== SHUT_WR && how !== SHUT_RDWR) throw new InvalidArgument();
    if (this.#role !== "stream" || Atomics.load(this.header, HEADER.STATE) !== STATE.CONNECTED) {
      throw new NotConnected();
    }
    if (how !== SHUT_WR) this.#readShut = true;
    if (how !== SHUT_RD && !this.#writeShut) {
      this.#writeShut = true;
      request({ op: "shut-write", id: this.#id });
    }
  }

  /**
   * An option's value, as Python's `socket.getsockopt(level, name)`: `SOL_SOCKET` with
   * `SO_REUSEADDR`, `SO_ERROR` (the pending error's errno, read and cleared), `SO_RCVBUF`
   * or `SO_SNDBUF` (the receive and send buffers' limits); `IPPROTO_TCP` with
   * `TCP_NODELAY`. Any other: `ProtocolNotAvailable`, `[Errno 92] Protocol not available`.
   *
   * @example
   * ```ts ignore
   * const errno = socket.getSockOpt(SOL_SOCKET, SO_ERROR); // how a non-blocking connect ended
   * ```
   */
  getSockOpt(level: number, name: number): number {
    this.#open();
    if (level === SOL_SOCKET && name === SO_ERROR) return this.getPendingError()?.errno ?? 0;
    return this.#options.get(level, name);
  }

  /**
   * Sets an option, as Python's `socket.setsockopt(level, name, value)`: the options
   * `getSockOpt` reads, but for `SO_ERROR`. `SO_REUSEADDR` and `TCP_NODELAY` are kept and
   * read back (Deno's listeners reuse addresses already); `SO_RCVBUF` and `SO_SNDBUF` set
   * the buffers' limits, rounded up to a power of two from 4 KiB to
   * {@linkcode DEFAULT_BUFFER_BYTES}, best set before `connect` or `listen`.
   *
   * @example
   * ```ts ignore
   * server.setSockOpt(SOL_SOCKET, SO_REUSEADDR, 1); // as the article's server does
   * ```
   */
  setSockOpt(level: number, name: number, value: number): void {
    this.#open();
    this.#options.set(level, name, value);
  }

  /** The local address. */
  getSockName(): Address {
    this.#open();
    const [host, port] = loadAddress(this.header, "local");
    return [host || "0.0.0.0", port];
  }

  /** The peer's address; `NotConnected` when there is no peer. */
  getPeerName(): Address {
    this.#open();
    if (this.#role !== "stream" || Atomics.load(this.header, HEADER.STATE) !== STATE.CONNECTED) {
      throw new NotConnected();
    }
    return loadAddress(this.header, "peer");
  }

  /**
   * What `poll` would report for this socket now: a mask of the `POLL*` bits.
   * Readable means `recv` or `accept` will not block; writable, that `send` will not.
   */
  readiness(): number {
    if (this.#fd < 0) return POLLNVAL;
    if (tracing) this.#seeConnected();
    if (this.#role === "listener") return listenerReadiness(this.header);
    if (this.#role === "fresh") return POLLOUT | POLLHUP;
    return connectionReadiness(this.header, this.#memory.rings as ConnectionRings, this.#readShut);
  }

  /** The id the worker knows this socket by. */
  get id(): number {
    return this.#id;
  }

  #open(): void {
    if (this.#fd < 0) throw new BadDescriptor();
  }

  /** Runs a call's attempt in the socket's mode (`blocking.ts`). */
  #run<T>(call: WaitingCall, attempt: Attempt<T>, spinMs?: number): T {
    return runCall(call, this.#fd, this.#timeout, attempt, spinMs);
  }
}

/** Checks `recv`'s size argument as Python does: an integer, not negative. */
function checkBufferSize(max: number): void {
  if (typeof max !== "number" || !Number.isInteger(max)) {
    throw new TypeError(`recv: the buffer size must be an integer, not ${String(max)}`);
  }
  if (max < 0) throw new RangeError("negative buffersize in recv");
}

function errorForErrno(errno: number): SocketError {
  return SocketError.fromCode(errnoName(errno));
}

// Started as the program loads, when it may be (`link.ts`).
startKernelEarly(deliverUnsentBytesAtExit);
