/**
 * The socket calls a Python learner reaches for: timeouts, shutdown,
 * connectEx, socket options, recvInto, createConnection and `using`, checked against
 * what CPython 3.11.7 does on this machine (Linux, real sockets on 127.0.0.1).
 *
 * What Python does, and so what these tests expect. [F1] and so on are cited by the
 * tests below; "ours:" says how a Python name or type is spelt in this layer.
 *
 * Timeouts
 * - [F1] Three modes. A new socket has `gettimeout() == None` (blocking).
 *   `settimeout(0)` makes it non-blocking (`gettimeout() == 0.0`, `getblocking()` False);
 *   `settimeout(None)` blocking; `settimeout(1.5)` blocking with a deadline
 *   (`gettimeout() == 1.5`, `getblocking()` True). An integer reads back as a float (3.0).
 * - [F2] `setblocking(False)` gives `gettimeout() == 0.0`; `setblocking(True)` gives None,
 *   even right after `settimeout(2)`: setblocking drops a deadline.
 * - [F3] A negative timeout: `ValueError: Timeout value out of range`. NaN:
 *   `ValueError: Invalid value NaN (not a number)`. The old timeout stays. The same two
 *   messages for `socket.setdefaulttimeout`. (Infinity: `OverflowError: timestamp out of
 *   range for platform time_t`; not tested here.) Ours: a RangeError with Python's text.
 * - [F4] When the time runs out, accept, recv, recv_into, send, sendall and connect raise
 *   `socket.timeout`, which is `TimeoutError`, a subclass of OSError, with `str(e) ==
 *   "timed out"`, `e.args == ("timed out",)` and `e.errno is None`. Each waited 0.200 s for
 *   a 0.2 s timeout. The socket stays usable and keeps its timeout: a later recv returns
 *   the bytes that came since. Ours: `SocketTimeout`, a SocketError, message `timed out`.
 * - [F5] A call in timeout mode returns as soon as it can; the timeout is a limit, per call.
 * - [F6] `sendall`'s deadline covers the whole call (Python 3.5+): with a reader taking
 *   4 KiB every 20 ms (so every single send makes progress), `sendall` of 8 MiB with a
 *   0.3 s timeout raised `timed out` after 0.305 s.
 * - [F7] `send` in timeout mode waits for room in the send buffer at most the timeout,
 *   then raises `timed out` (waited 0.301 s for 0.3 s).
 * - [F8] `socket.setdefaulttimeout(t)` is the timeout of every socket made afterwards;
 *   `getdefaulttimeout()` reads it (None at start). Ours: `setDefaultTimeout`,
 *   `getDefaultTimeout`.
 * - [F9] An accepted socket's timeout is `getdefaulttimeout()`, never the listener's. All
 *   six cases checked: listener timeout None, 0.0 or 0.5, with the default None (accepted:
 *   None, really blocking, no O_NONBLOCK) or 2.0 (accepted: 2.0).
 * - [F10] select and poll see a socket in timeout mode as they see a blocking one: not
 *   readable with nothing there, readable once bytes come; a listener is readable when a
 *   connection waits.
 * - [F11] `settimeout` and `setblocking` on a closed socket: `[Errno 9] Bad file
 *   descriptor`.
 *
 * A slow connect on loopback
 * - [F12] A connect is slow when the server's accept queue is full: Linux then drops the
 *   SYN (tcp_abort_on_overflow is 0 here) and the client tries again after 1 s, 3 s, ...
 *   A kernel listener with backlog B holds B + 1 connections; with Python, backlog 0, 1
 *   and 2 each timed out the next connect at 0.300 s for a 0.3 s timeout. Deno.listen's
 *   backlog is 511 here: 512 connections fill it, the 513th waits. These tests fill a
 *   Deno.listen that way in a helper thread (the layer's own listener accepts ahead of
 *   `accept`, so its queue never fills in the kernel).
 * - [F13] connect in timeout mode on a full queue: `timed out` after the timeout. Then
 *   `connect_ex` gives 114 (EALREADY) and `connect` raises `BlockingIOError: [Errno 114]
 *   Operation already in progress`; `getpeername` gives `[Errno 107] Transport endpoint is
 *   not connected`.
 * - [F14] `connect_ex` in timeout mode, when the time runs out, returns 11 (EAGAIN) after
 *   the timeout; it raises nothing.
 * - [F15] Non-blocking `connect_ex` on a full queue: 115 (EINPROGRESS), then 114 (EALREADY)
 *   while it lasts; not writable; `SO_ERROR` is 0 meanwhile.
 *
 * shutdown (SHUT_RD = 0, SHUT_WR = 1, SHUT_RDWR = 2)
 * - [F16] After `shutdown(SHUT_WR)` the peer's recv gives the bytes sent before, then b''.
 *   This side still reads what the peer sends. Its own send and sendall raise
 *   `BrokenPipeError: [Errno 32] Broken pipe`. A second `shutdown(SHUT_WR)` is fine. The
 *   peer is readable, this side still writable (for select). Once the peer closes, recv
 *   gives b''.
 * - [F17] After `shutdown(SHUT_RD)` (Linux): recv still returns bytes buffered before, then
 *   b'' at once, blocking or not (it waited 0.000 s in blocking mode); select says
 *   readable. Bytes the peer sends later are still delivered: recv returned b'late' after
 *   having returned b''. This side can still send; the peer sees no end of stream.
 * - [F18] After `shutdown(SHUT_RDWR)`: the peer reads b''; this side's recv gives b'', send
 *   raises `[Errno 32] Broken pipe`; `getpeername` and `fileno` still work until close.
 * - [F19] shutdown on a socket that never connected: `OSError: [Errno 107] Transport
 *   endpoint is not connected`, for each `how`. A `how` of 3 or -1: `[Errno 22] Invalid
 *   argument` (checked first). On a closed socket: `[Errno 9] Bad file descriptor`. (On a
 *   listener, Linux takes SHUT_RDWR, and accept then fails with `[Errno 22]`; SHUT_RD gives
 *   107. Not tested here.)
 *
 * connect_ex
 * - [F20] Blocking: 0 when connected; 106 (EISCONN) when called again; 111 when refused,
 *   and 111 again on a second try; a refused socket may then connect: 0. On a closed
 *   socket: 9. (A port out of range raises OverflowError, a name that does not resolve
 *   raises `gaierror`; they are not returned.)
 * - [F21] Non-blocking to a listener: 115. On loopback the connection is made at once, so
 *   a second call gives 0 (Linux reports the finished connect once), later ones 106.
 * - [F22] Non-blocking to a closed port: 115; once writable, connect_ex gives 111 (reading
 *   the pending error), and then `SO_ERROR` is 0. A blocking `connect` at that point
 *   raises `ConnectionRefusedError: [Errno 111] Connection refused` the same way.
 *
 * Options (SOL_SOCKET = 1, SO_REUSEADDR = 2, SO_ERROR = 4, SO_SNDBUF = 7, SO_RCVBUF = 8,
 * IPPROTO_TCP = 6, TCP_NODELAY = 1)
 * - [F23] `SO_ERROR` reads and clears the pending error: after a refused non-blocking
 *   connect, 111 and then 0. 0 on a fresh or a connected socket. Setting it: `[Errno 92]
 *   Protocol not available`.
 * - [F24] `SO_REUSEADDR` and `TCP_NODELAY` read 0 on a fresh socket; set to 1 they read 1,
 *   set to 5 they read 1, set to 0 they read 0.
 * - [F25] `SO_RCVBUF`/`SO_SNDBUF`: Linux doubles what is set (65536 reads 131072) and
 *   clamps it (1 reads 2304 or 4608; more than rmem_max reads 2 * rmem_max). The defaults
 *   here are 131072 and 16384 (autotuned later). Ours: the limit of the socket's receive
 *   and send rings, DEFAULT_BUFFER_BYTES unless set, read back as set, without Linux's
 *   doubling (the tests set 8192, under the rings' first size of 16 KiB: a power of two
 *   from 4096 up to DEFAULT_BUFFER_BYTES should read back exactly); one recv or one send
 *   never moves more than that.
 * - [F26] An option this layer does not know, at SOL_SOCKET or IPPROTO_TCP (name 999),
 *   get or set: `OSError: [Errno 92] Protocol not available` (ENOPROTOOPT). (Linux gives
 *   `[Errno 95] Operation not supported` for a get at an unknown level; not tested.) On a
 *   closed socket: `[Errno 9] Bad file descriptor`.
 *
 * recv_into
 * - [F27] `recv_into(buffer)` fills the start of the buffer and returns the count (the
 *   bytes recv would have given); `nbytes` caps it; `nbytes == 0` means the buffer's
 *   length; a view (memoryview slice) is filled at its own offset; nothing past the count
 *   is touched; an empty buffer gives 0.
 * - [F28] `nbytes` larger than the buffer: `ValueError: buffer too small for requested
 *   bytes`; negative: `ValueError: negative buffersize in recv_into`. Ours: RangeError.
 * - [F29] Non-blocking with nothing there: `[Errno 11] Resource temporarily unavailable`;
 *   after the peer closed: 0; never connected: `[Errno 107]`; closed: `[Errno 9]`.
 *
 * create_connection, with
 * - [F30] `create_connection(address, timeout)` returns a connected socket whose
 *   `gettimeout()` is that timeout; without one, the default timeout; with an explicit None,
 *   None even when a default is set. Refused: `ConnectionRefusedError: [Errno 111]
 *   Connection refused`. Timeout 0: `BlockingIOError: [Errno 115] Operation now in
 *   progress`. Negative: `ValueError: Timeout value out of range`.
 * - [F31] `with socket.socket() as s:` closes s at the end of the block (`fileno()` -1),
 *   also when the block raises (the exception goes on); closing inside the block is fine.
 *   Ours: `using`, through `[Symbol.dispose]`.
 *
 * Timing: a test that expects a timeout asserts it came no earlier than 90% of the timeout
 * and well before a rescue a helper thread performs 3 s in (connecting, sending or reading
 * so that a call that ignores its timeout returns, and the test fails instead of hanging).
 *
 * Run: deno test -A tests/socket_python_test.ts
 */
import assert from "node:assert/strict";
import {
  type Address,
  AlreadyInProgress,
  BadDescriptor,
  BrokenPipe,
  ConnectionRefused,
  createConnection,
  DEFAULT_BUFFER_BYTES,
  getDefaultTimeout,
  InProgress,
  InvalidArgument,
  IPPROTO_TCP,
  NotConnected,
  Poll,
  POLLIN,
  POLLOUT,
  select,
  setDefaultTimeout,
  SHUT_RD,
  SHUT_RDWR,
  SHUT_WR,
  sleep,
  SO_ERROR,
  SO_RCVBUF,
  SO_REUSEADDR,
  SO_SNDBUF,
  Socket,
  SocketError,
  SocketTimeout,
  SOL_SOCKET,
  TCP_NODELAY,
  WouldBlock,
} from "../lib/socket/mod.ts";
import type { ReactorBase } from "../lib/reactor/base.ts";
import { PollReactor } from "../lib/reactor/poll.ts";
import { SelectReactor } from "../lib/reactor/select.ts";
import { closedPort } from "../tools/process.ts";
import { concat } from "./helpers/bytes.ts";
import { runAtMost, withDeadline } from "./helpers/deadline.ts";
import { Probe } from "./helpers/probe.ts";
import { closeAll, connectedPair, listenLocal, patternBytes } from "./helpers/socket_pairs.ts";

const HOST = "127.0.0.1";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** When the helper thread rescues a call that ignores its timeout, in ms. */
const RESCUE_MS = 3000;
/** A call that times out must have done so this much before the rescue, in ms. */
const TIMEOUT_LIMIT_MS = RESCUE_MS - 500;

// ---------------------------------------------------------------------------
// Helpers.

/** Runs `call`, which must throw; returns what it threw. */
function thrownBy(call: () => unknown): unknown {
  let returned: unknown;
  try {
    returned = call();
  } catch (error) {
    return error;
  }
  assert.fail(`expected an error, but the call returned ${String(returned)}`);
}

/** Checks a socket error's errno name, number and Python's message (and class, if given). */
function checkSocketError(
  error: unknown,
  code: string,
  errno: number,
  message: string,
  expectedClass?: abstract new (...args: never[]) => SocketError,
): void {
  assert.ok(error instanceof SocketError, `expected a SocketError (${code}), got ${error}`);
  if (expectedClass) {
    assert.ok(error instanceof expectedClass, `expected ${expectedClass.name}, got ${error.name}`);
  }
  assert.equal(error.code, code);
  assert.equal(error.errno, errno);
  assert.equal(error.message, message);
}

const NOT_CONNECTED = ["ENOTCONN", 107, "[Errno 107] Transport endpoint is not connected"] as const;
const BAD_DESCRIPTOR = ["EBADF", 9, "[Errno 9] Bad file descriptor"] as const;
const BROKEN_PIPE = ["EPIPE", 32, "[Errno 32] Broken pipe"] as const;
const REFUSED = ["ECONNREFUSED", 111, "[Errno 111] Connection refused"] as const;
const NO_PROTOCOL_OPTION = ["ENOPROTOOPT", 92, "[Errno 92] Protocol not available"] as const;
const WOULD_BLOCK = ["EWOULDBLOCK", 11, "[Errno 11] Resource temporarily unavailable"] as const;
const ALREADY = ["EALREADY", 114, "[Errno 114] Operation already in progress"] as const;

/** [F4] A timeout is a SocketTimeout, a SocketError, whose message is Python's `timed out`. */
function checkTimeout(error: unknown, what: string): void {
  assert.ok(error instanceof SocketTimeout, `${what}: expected SocketTimeout, got ${error}`);
  assert.ok(
    error instanceof SocketError,
    "a SocketTimeout is a SocketError, as Python's is an OSError",
  );
  assert.equal(error.message, "timed out");
  assert.equal(error.name, "SocketTimeout");
}

/**
 * Runs `call`, which must throw a SocketTimeout no sooner than 90% of `seconds` and well
 * before the helper thread's rescue. Returns how long it took, in ms.
 */
function assertTimesOut(call: () => unknown, seconds: number, what: string): number {
  const start = performance.now();
  let thrown: unknown = undefined;
  let returned: unknown = undefined;
  try {
    returned = call();
  } catch (error) {
    thrown = error;
  }
  const ms = performance.now() - start;
  assert.notEqual(
    thrown,
    undefined,
    `${what} returned ${String(returned)} after ${ms.toFixed(0)} ms instead of timing out`,
  );
  checkTimeout(thrown, what);
  assert.ok(ms >= seconds * 900, `${what} timed out after ${ms.toFixed(0)} ms, for ${seconds} s`);
  assert.ok(ms < TIMEOUT_LIMIT_MS, `${what} took ${ms.toFixed(0)} ms for a ${seconds} s timeout`);
  return ms;
}

/** Waits (with select, so never for ever) until `socket` is readable, then recv(max). */
function recvWithin(socket: Socket, max: number, seconds = 5): Uint8Array {
  assert.deepEqual(
    select([socket], [], [], seconds)[0],
    [socket],
    `nothing to read in ${seconds} s`,
  );
  return socket.recv(max);
}

/** Reads until end of stream, each wait bounded by select, and returns all the bytes. */
function recvToEnd(socket: Socket, seconds = 5): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (;;) {
    const bytes = recvWithin(socket, 65536, seconds);
    if (bytes.length === 0) return concat(chunks);
    chunks.push(bytes);
  }
}

/** Sets the default timeout for `body`, and puts it back to `null` afterwards. */
function withDefaultTimeout<T>(seconds: number | null, body: () => T): T {
  setDefaultTimeout(seconds);
  try {
    return body();
  } finally {
    setDefaultTimeout(null);
  }
}

// ---------------------------------------------------------------------------
// A helper thread: a peer that acts while this thread is blocked in a call.

/** What the helper thread is asked to do; commands other than hurry and report run in order. */
type PeerCommand =
  /** Connect to the port (after `afterMs`), and keep the connection. */
  | { op: "connect"; port: number; afterMs?: number }
  /** Send the text on the connection (after `afterMs`). */
  | { op: "send"; text: string; afterMs?: number }
  /** Read `burstBytes` every `periodMs` for `forMs`, then read at full speed to the end. */
  | { op: "readSlowly"; burstBytes: number; periodMs: number; forMs: number }
  /** Read at full speed to the end (after `afterMs`). */
  | { op: "drain"; afterMs?: number }
  /** Listen on a port whose accept queue is full ([F12]); the reply has the port. */
  | { op: "listenFull" }
  /** Close that listener and the connections that fill it (after `afterMs`). */
  | { op: "closeListener"; afterMs?: number }
  /** Every wait ends now, and every later one is skipped. */
  | { op: "hurry" }
  /** Reply at once with the count of bytes read so far. */
  | { op: "report" };

/** The helper thread's answer to a command. */
interface PeerReply {
  done: PeerCommand["op"];
  port?: number;
  bytesRead?: number;
  error?: string;
}

/**
 * The helper thread's code. It runs in a Worker, made from this function's source, so it
 * uses nothing from this module's scope.
 */
function threadPeerMain(): void {
  const scope = globalThis as unknown as {
    onmessage: ((event: MessageEvent<PeerCommand>) => void) | null;
    postMessage(message: PeerReply): void;
  };
  let conn: Deno.Conn | null = null;
  let listener: Deno.Listener | null = null;
  const filling: Deno.Conn[] = [];
  let bytesRead = 0;
  let hurried = false;
  const wakers = new Set<() => void>();
  let queue: Promise<void> = Promise.resolve();

  /** A wait that `hurry` ends early. */
  const pause = (ms = 0): Promise<void> => {
    if (hurried || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      wakers.add(wake);
    });
  };
  const plainDelay = (ms: number) => new Promise<null>((resolve) => setTimeout(resolve, ms, null));
  const connection = (): Deno.Conn => {
    if (conn === null) throw new Error("no connection yet");
    return conn;
  };
  /** Reads once; false at end of stream. */
  const readOnce = async (buffer: Uint8Array): Promise<boolean> => {
    const count = await connection().read(buffer);
    if (count === null) return false;
    bytesRead += count;
    return true;
  };

  const run = async (command: PeerCommand): Promise<PeerReply> => {
    switch (command.op) {
      case "connect":
        await pause(command.afterMs);
        conn = await Deno.connect({ hostname: "127.0.0.1", port: command.port });
        return { done: "connect" };
      case "send": {
        await pause(command.afterMs);
        const bytes = new TextEncoder().encode(command.text);
        let offset = 0;
        while (offset < bytes.length) offset += await connection().write(bytes.subarray(offset));
        return { done: "send" };
      }
      case "readSlowly": {
        const slowUntil = performance.now() + command.forMs;
        const big = new Uint8Array(256 * 1024);
        while (!hurried && performance.now() < slowUntil) {
          const burstEnd = bytesRead + command.burstBytes;
          while (bytesRead < burstEnd) {
            const room = Math.min(big.length, burstEnd - bytesRead);
            if (!await readOnce(big.subarray(0, room))) return { done: "readSlowly", bytesRead };
          }
          await pause(command.periodMs);
        }
        while (await readOnce(big));
        return { done: "readSlowly", bytesRead };
      }
      case "drain": {
        await pause(command.afterMs);
        const big = new Uint8Array(256 * 1024);
        while (await readOnce(big));
        return { done: "drain", bytesRead };
      }
      case "listenFull": {
        // Connect until two attempts in a row stay unanswered: the queue is full, and
        // the kernel drops every SYN that comes now.
        const full = Deno.listen({ hostname: "127.0.0.1", port: 0 });
        listener = full;
        const port = full.addr.port;
        let unanswered = 0;
        while (unanswered < 2 && filling.length < 8192) {
          const attempt = Deno.connect({ hostname: "127.0.0.1", port });
          const made = await Promise.race([attempt, plainDelay(150)]);
          if (made === null) {
            unanswered++;
            attempt.then((late) => filling.push(late), () => {});
          } else {
            filling.push(made);
            unanswered = 0;
          }
        }
        return { done: "listenFull", port };
      }
      case "closeListener":
        await pause(command.afterMs);
        listener?.close();
        listener = null;
        for (const made of filling.splice(0)) made.close();
        return { done: "closeListener" };
      default:
        throw new Error(`unknown command ${command.op}`);
    }
  };

  scope.onmessage = (event) => {
    const command = event.data;
    if (command.op === "hurry") {
      hurried = true;
      for (const wake of [...wakers]) wake();
      return;
    }
    if (command.op === "report") {
      scope.postMessage({ done: "report", bytesRead });
      return;
    }
    queue = queue.then(() => run(command)).then(
      (reply) => scope.postMessage(reply),
      (error) => scope.postMessage({ done: command.op, error: String(error) }),
    );
  };
}

/** The helper thread, from the test's side. */
class ThreadPeer {
  readonly #worker: Worker;
  readonly #url: string;
  readonly #replies: PeerReply[] = [];
  #arrived: () => void = () => {};

  constructor() {
    const source = `(${threadPeerMain.toString()})();`;
    this.#url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    this.#worker = new Worker(this.#url, { type: "module" });
    this.#worker.onmessage = (event: MessageEvent<PeerReply>) => {
      this.#replies.push(event.data);
      this.#arrived();
    };
  }

  /** Gives the thread a command; it runs after the ones given before. */
  tell(command: PeerCommand): void {
    this.#worker.postMessage(command);
  }

  /** The reply to the next finished command `op`; fails on the thread's error, or after 10 s. */
  async finished(op: PeerCommand["op"]): Promise<PeerReply> {
    const look = async (): Promise<PeerReply> => {
      for (;;) {
        const index = this.#replies.findIndex((reply) => reply.done === op);
        if (index >= 0) {
          const [reply] = this.#replies.splice(index, 1);
          if (reply.error) throw new Error(`the helper thread's ${op} failed: ${reply.error}`);
          return reply;
        }
        await new Promise<void>((resolve) => this.#arrived = resolve);
      }
    };
    return await withDeadline(look(), 10_000, `the helper thread's ${op}`);
  }

  /** Ends every wait of the thread now (the rescue, when it is no longer needed as one). */
  hurry(): void {
    this.tell({ op: "hurry" });
  }

  /** How many bytes the thread has read so far. */
  async bytesRead(): Promise<number> {
    this.tell({ op: "report" });
    return (await this.finished("report")).bytesRead ?? 0;
  }

  /** Stops the thread; its connections and listener close with it. */
  stop(): void {
    this.#worker.terminate();
    URL.revokeObjectURL(this.#url);
  }
}

/** Has the helper thread listen on a port whose accept queue is full ([F12]); its address. */
async function fullListener(peer: ThreadPeer): Promise<Address> {
  peer.tell({ op: "listenFull" });
  const { port } = await peer.finished("listenFull");
  assert.ok(port !== undefined, "the helper thread gave no port");
  return [HOST, port];
}

// ---------------------------------------------------------------------------
// The names.

Deno.test("the constants have Linux's values, as Python's socket module gives them", () => {
  assert.deepEqual([SHUT_RD, SHUT_WR, SHUT_RDWR], [0, 1, 2]);
  assert.deepEqual([SOL_SOCKET, SO_REUSEADDR, SO_ERROR, SO_SNDBUF, SO_RCVBUF], [1, 2, 4, 7, 8]);
  assert.deepEqual([IPPROTO_TCP, TCP_NODELAY], [6, 1]);
});

// ---------------------------------------------------------------------------
// The three modes.

Deno.test("[F1, F2] setTimeout: null blocks, 0 never waits, a number is a deadline; setBlocking agrees", () => {
  const socket = new Socket();
  try {
    assert.equal(socket.getTimeout(), null);
    socket.setTimeout(0);
    assert.equal(socket.getTimeout(), 0);
    assert.equal(socket.getBlocking(), false);
    socket.setTimeout(null);
    assert.equal(socket.getTimeout(), null);
    assert.equal(socket.getBlocking(), true);
    socket.setTimeout(1.5);
    assert.equal(socket.getTimeout(), 1.5);
    assert.equal(socket.getBlocking(), true, "a deadline is blocking mode");
    socket.setBlocking(false);
    assert.equal(socket.getTimeout(), 0);
    socket.setBlocking(true);
    assert.equal(socket.getTimeout(), null);
    socket.setTimeout(2);
    socket.setBlocking(true);
    assert.equal(socket.getTimeout(), null, "setBlocking(true) drops the deadline");
    socket.setTimeout(2);
    socket.setBlocking(false);
    assert.equal(socket.getTimeout(), 0);
  } finally {
    socket.close();
  }
  // setTimeout(0) really is non-blocking, and setTimeout(null) blocking again.
  const { listener, client, server } = connectedPair();
  try {
    server.setTimeout(0);
    checkSocketError(thrownBy(() => server.recv(16)), ...WOULD_BLOCK, WouldBlock);
    client.sendAll(encoder.encode("ab"));
    server.setTimeout(null);
    assert.equal(decoder.decode(server.recv(16)), "ab"); // blocking again
  } finally {
    closeAll(client, server, listener);
  }
});

Deno.test("[F3] a negative or NaN timeout is a RangeError with Python's message; the old one stays", () => {
  const socket = new Socket();
  try {
    socket.setTimeout(2);
    const negative = thrownBy(() => socket.setTimeout(-1));
    assert.ok(negative instanceof RangeError, `expected RangeError, got ${negative}`);
    assert.match(negative.message, /Timeout value out of range/);
    const notANumber = thrownBy(() => socket.setTimeout(NaN));
    assert.ok(notANumber instanceof RangeError, `expected RangeError, got ${notANumber}`);
    assert.match(notANumber.message, /Invalid value NaN \(not a number\)/);
    assert.equal(socket.getTimeout(), 2);
    // The default timeout is checked the same way.
    assert.throws(() => setDefaultTimeout(-0.5), { name: "RangeError", message: /out of range/ });
    assert.throws(() => setDefaultTimeout(NaN), {
      name: "RangeError",
      message: /Invalid value NaN/,
    });
    assert.equal(getDefaultTimeout(), null);
  } finally {
    socket.close();
  }
  // [F11] On a closed socket: EBADF.
  checkSocketError(thrownBy(() => socket.setTimeout(1)), ...BAD_DESCRIPTOR, BadDescriptor);
  checkSocketError(thrownBy(() => socket.setBlocking(true)), ...BAD_DESCRIPTOR, BadDescriptor);
});

Deno.test("[F8] setDefaultTimeout: sockets made afterwards start with it", () => {
  assert.equal(getDefaultTimeout(), null);
  const before = new Socket();
  const during = withDefaultTimeout(1.25, () => {
    assert.equal(getDefaultTimeout(), 1.25);
    return new Socket();
  });
  const after = new Socket();
  try {
    assert.equal(before.getTimeout(), null);
    assert.equal(during.getTimeout(), 1.25);
    assert.equal(during.getBlocking(), true);
    assert.equal(after.getTimeout(), null);
    assert.equal(getDefaultTimeout(), null);
    withDefaultTimeout(0, () => {
      const nonBlocking = new Socket();
      assert.equal(nonBlocking.getBlocking(), false);
      nonBlocking.close();
    });
  } finally {
    closeAll(before, during, after);
  }
});

// ---------------------------------------------------------------------------
// Timeouts on each waiting call.

Deno.test("[F4, F5] accept in timeout mode: SocketTimeout `timed out` after the timeout; then accepts", async () => {
  const listener = listenLocal();
  const peer = new ThreadPeer();
  const accepted: Socket[] = [];
  try {
    const port = listener.getSockName()[1];
    peer.tell({ op: "connect", port, afterMs: RESCUE_MS }); // the rescue
    listener.setTimeout(0.2);
    assertTimesOut(() => listener.accept(), 0.2, "accept");
    assert.equal(listener.getTimeout(), 0.2, "the listener keeps its timeout");
    peer.hurry(); // the thread connects now
    listener.setTimeout(5);
    const start = performance.now();
    accepted.push(listener.accept()[0]);
    assert.ok(performance.now() - start < TIMEOUT_LIMIT_MS, "accept returned once a client came");
    await peer.finished("connect");
  } finally {
    peer.stop();
    closeAll(...accepted, listener);
  }
});

Deno.test("[F9] an accepted socket's timeout is the default timeout, never the listener's", () => {
  const seen: string[] = [];
  for (const listenerTimeout of [null, 0, 0.5]) {
    for (const defaultTimeout of [null, 2]) {
      const listener = listenLocal();
      const client = new Socket();
      let server: Socket | undefined;
      try {
        listener.setTimeout(listenerTimeout);
        client.connect(listener.getSockName());
        assert.deepEqual(select([listener], [], [], 5)[0], [listener]);
        server = withDefaultTimeout(defaultTimeout, () => listener.accept()[0]);
        seen.push(`${listenerTimeout}/${defaultTimeout}: ${server.getTimeout()}`);
        assert.equal(server.getBlocking(), true);
      } finally {
        closeAll(server, client, listener);
      }
    }
  }
  assert.deepEqual(seen, [
    "null/null: null",
    "null/2: 2",
    "0/null: null",
    "0/2: 2",
    "0.5/null: null",
    "0.5/2: 2",
  ]);
});

Deno.test("[F4, F5] recv and recvInto in timeout mode: bytes as they come, SocketTimeout when none", async () => {
  const listener = listenLocal();
  const peer = new ThreadPeer();
  let server: Socket | undefined;
  try {
    peer.tell({ op: "connect", port: listener.getSockName()[1] });
    peer.tell({ op: "send", text: "first", afterMs: 100 });
    peer.tell({ op: "send", text: "second", afterMs: RESCUE_MS }); // the rescue
    [server] = listener.accept();
    server.setTimeout(2);
    const start = performance.now();
    assert.equal(decoder.decode(server.recv(64)), "first");
    assert.ok(
      performance.now() - start < 1900,
      "recv returned before its timeout, once bytes came",
    );
    await peer.finished("send");

    server.setTimeout(0.2);
    assertTimesOut(() => server?.recv(64), 0.2, "recv");
    assertTimesOut(() => server?.recvInto(new Uint8Array(64)), 0.2, "recvInto");
    assert.equal(server.getTimeout(), 0.2, "a timeout leaves the socket in timeout mode");

    // The socket is still usable: the next bytes come through.
    peer.hurry();
    server.setTimeout(5);
    assert.equal(decoder.decode(server.recv(64)), "second");
    await peer.finished("send");
  } finally {
    peer.stop();
    closeAll(server, listener);
  }
});

Deno.test("[F7] send in timeout mode waits for room at most the timeout", async () => {
  const listener = listenLocal();
  const peer = new ThreadPeer();
  let server: Socket | undefined;
  try {
    peer.tell({ op: "connect", port: listener.getSockName()[1] });
    peer.tell({ op: "drain", afterMs: RESCUE_MS }); // reads nothing until the rescue
    [server] = listener.accept();
    server.setTimeout(0.2);
    const chunk = new Uint8Array(256 * 1024);
    let sent = 0;
    let timedOut: unknown = null;
    let lastCallMs = 0;
    const start = performance.now();
    while (timedOut === null && sent < 256 * 1024 * 1024) {
      const callStart = performance.now();
      try {
        sent += server.send(chunk);
      } catch (error) {
        timedOut = error;
      }
      lastCallMs = performance.now() - callStart;
    }
    const totalMs = performance.now() - start;
    checkTimeout(timedOut, `send (after ${sent} bytes)`);
    assert.ok(lastCallMs >= 180, `the last send gave up after ${lastCallMs.toFixed(0)} ms`);
    assert.ok(
      totalMs < TIMEOUT_LIMIT_MS,
      `the buffers filled, and send timed out, in ${totalMs} ms`,
    );
    assert.ok(sent > 0, "the first sends found room");
    peer.hurry();
    server.close();
    const { bytesRead } = await peer.finished("drain");
    assert.equal(bytesRead, sent, "every byte send accepted was delivered");
  } finally {
    peer.stop();
    closeAll(server, listener);
  }
});

Deno.test("[F6] sendAll's deadline covers the whole call, though a reader keeps taking bytes", async () => {
  // Bursts of 4 MiB every 100 ms (some 40 MiB/s) cannot take 128 MiB in 0.5 s, and each
  // send finds room five times within its timeout. Measured with a sendAll whose deadline
  // was per send: it returned at the rescue, 3.1 s in, instead of timing out.
  const [BURST, TIMEOUT, TOTAL] = [4 * 1024 * 1024, 0.5, 128 * 1024 * 1024];
  const listener = listenLocal();
  const peer = new ThreadPeer();
  let server: Socket | undefined;
  try {
    peer.tell({ op: "connect", port: listener.getSockName()[1] });
    // Every send finds room well within the timeout, so only a deadline for the whole
    // call can end it. After RESCUE_MS the thread reads at full
    // speed (the rescue): a sendAll without that deadline then ends, and the test fails.
    peer.tell({ op: "readSlowly", burstBytes: BURST, periodMs: 100, forMs: RESCUE_MS });
    [server] = listener.accept();
    server.setTimeout(TIMEOUT);
    const ms = assertTimesOut(
      () => server?.sendAll(new Uint8Array(TOTAL)),
      TIMEOUT,
      "sendAll",
    );
    const bytesRead = await peer.bytesRead();
    assert.ok(bytesRead > 0, `the reader took ${bytesRead} bytes during the ${ms.toFixed(0)} ms`);
    assert.equal(server.getTimeout(), TIMEOUT);
  } finally {
    peer.hurry();
    peer.stop();
    closeAll(server, listener);
  }
});

Deno.test("[F12, F13, F14] connect in timeout mode: SocketTimeout on a full accept queue; connectEx gives 11", async () => {
  const peer = new ThreadPeer();
  const client = new Socket();
  const other = new Socket();
  try {
    const address = await fullListener(peer);
    // The rescue: a closed port refuses the next SYN, so a connect that ignores its
    // timeout ends with ECONNREFUSED instead of hanging.
    peer.tell({ op: "closeListener", afterMs: RESCUE_MS - 500 });

    client.setTimeout(0.2);
    assertTimesOut(() => client.connect(address), 0.2, "connect");
    // The attempt goes on: Python's next connect says so.
    assert.equal(client.connectEx(address), 114);
    checkSocketError(thrownBy(() => client.connect(address)), ...ALREADY, AlreadyInProgress);
    checkSocketError(thrownBy(() => client.getPeerName()), ...NOT_CONNECTED, NotConnected);

    other.setTimeout(0.2);
    const start = performance.now();
    assert.equal(other.connectEx(address), 11, "connectEx's timeout is EAGAIN, returned");
    const ms = performance.now() - start;
    assert.ok(ms >= 180 && ms < TIMEOUT_LIMIT_MS, `connectEx returned after ${ms.toFixed(0)} ms`);
  } finally {
    closeAll(client, other);
    peer.stop();
  }
});

Deno.test("[F15] non-blocking connectEx on a slow connect: 115, then 114 while it lasts; SO_ERROR 0", async () => {
  const peer = new ThreadPeer();
  const client = new Socket();
  try {
    const address = await fullListener(peer);
    client.setBlocking(false);
    assert.equal(client.connectEx(address), 115);
    assert.equal(client.connectEx(address), 114);
    checkSocketError(thrownBy(() => client.connect(address)), ...ALREADY, AlreadyInProgress);
    assert.deepEqual(select([], [client], [], 0.2), [[], [], []], "not writable while connecting");
    assert.equal(client.getSockOpt(SOL_SOCKET, SO_ERROR), 0);
  } finally {
    client.close();
    peer.stop();
  }
});

Deno.test("[F10] select and Poll see sockets in timeout mode as they see blocking ones", () => {
  const { listener, client, server } = connectedPair();
  const newcomer = new Socket();
  try {
    for (const socket of [listener, client, server]) socket.setTimeout(5);
    assert.deepEqual(select([server, listener], [], [], 0), [[], [], []]);
    assert.deepEqual(select([], [client], [], 0), [[], [client], []]);
    client.sendAll(encoder.encode("ping"));
    assert.deepEqual(select([server], [], [], 5), [[server], [], []]);

    const poll = new Poll();
    poll.register(server, POLLIN | POLLOUT);
    poll.register(listener, POLLIN);
    assert.deepEqual(poll.poll(1000), [[server.fileno(), POLLIN | POLLOUT]]);
    assert.equal(decoder.decode(server.recv(16)), "ping");
    assert.deepEqual(poll.poll(0), [[server.fileno(), POLLOUT]]);

    newcomer.connect(listener.getSockName());
    assert.deepEqual(select([listener], [], [], 5), [[listener], [], []]);
    assert.deepEqual(poll.poll(1000).find(([fd]) => fd === listener.fileno()), [
      listener.fileno(),
      POLLIN,
    ]);
    listener.accept()[0].close();
    // Looking does not change the mode.
    for (const socket of [listener, client, server]) assert.equal(socket.getTimeout(), 5);
  } finally {
    closeAll(newcomer, client, server, listener);
  }
});

const REACTORS: Array<[string, new () => ReactorBase]> = [
  ["select", SelectReactor],
  ["poll", PollReactor],
];

for (const [name, Reactor] of REACTORS) {
  Deno.test(`[F10] the ${name} reactor reads a socket in timeout mode as a blocking one`, async () => {
    const reactor = new Reactor();
    const { listener, client, server } = connectedPair();
    try {
      server.setTimeout(5);
      const chunks: Uint8Array[] = [];
      const probe = new Probe(server);
      probe.onRead = () => {
        const bytes = server.recv(1024); // readable, so it returns at once
        if (bytes.length === 0) {
          reactor.stop();
          return new Error("end of stream");
        }
        chunks.push(bytes);
      };
      reactor.addReader(probe);
      reactor.callLater(0.01, () => client.sendAll(encoder.encode("timeout ")));
      reactor.callLater(0.03, () => {
        client.sendAll(encoder.encode("mode"));
        client.close();
      });
      await runAtMost(reactor);
      assert.equal(decoder.decode(concat(chunks)), "timeout mode");
      assert.equal(server.getTimeout(), 5);
    } finally {
      closeAll(client, server, listener);
    }
  });
}

// ---------------------------------------------------------------------------
// shutdown.

for (const side of ["client", "server"] as const) {
  Deno.test(`[F16] shutdown(SHUT_WR) on the ${side}: the peer reads to the end; this side still reads`, () => {
    const pair = connectedPair();
    const [closing, peer] = side === "client"
      ? [pair.client, pair.server]
      : [pair.server, pair.client];
    try {
      closing.sendAll(encoder.encode("before"));
      closing.shutdown(SHUT_WR);
      assert.equal(decoder.decode(recvToEnd(peer)), "before");
      assert.equal(peer.recv(16).length, 0, "end of stream again");
      // The other direction still works.
      peer.sendAll(encoder.encode("reply"));
      assert.equal(decoder.decode(recvWithin(closing, 16)), "reply");
      checkSocketError(
        thrownBy(() => closing.send(encoder.encode("x"))),
        ...BROKEN_PIPE,
        BrokenPipe,
      );
      checkSocketError(thrownBy(() => closing.sendAll(encoder.encode("x"))), ...BROKEN_PIPE);
      closing.shutdown(SHUT_WR); // twice is fine
      assert.deepEqual(
        select([], [closing], [], 0)[1],
        [closing],
        "still writable (send fails at once)",
      );
      peer.close();
      assert.equal(recvToEnd(closing).length, 0, "the peer's close is seen");
    } finally {
      closeAll(pair.client, pair.server, pair.listener);
    }
  });
}

Deno.test("[F17] shutdown(SHUT_RD): buffered bytes come, then empty at once; later bytes still come (Linux)", () => {
  const { listener, client, server } = connectedPair();
  try {
    server.sendAll(encoder.encode("early"));
    assert.deepEqual(select([client], [], [], 5)[0], [client]);
    sleep(0.05); // all five bytes are in
    client.shutdown(SHUT_RD);
    assert.equal(decoder.decode(client.recv(100)), "early");
    assert.deepEqual(select([client], [], [], 0)[0], [client], "readable: recv will not wait");
    const start = performance.now();
    assert.equal(client.recv(100).length, 0, "blocking recv returns empty bytes at once");
    assert.ok(performance.now() - start < 1000);
    client.setBlocking(false);
    assert.equal(client.recv(100).length, 0, "non-blocking too, not WouldBlock");

    // This side still sends, and the peer sees no end of stream.
    client.sendAll(encoder.encode("still sends"));
    assert.equal(decoder.decode(recvWithin(server, 100)), "still sends");
    server.setBlocking(false);
    checkSocketError(thrownBy(() => server.recv(100)), ...WOULD_BLOCK, WouldBlock);

    // On Linux, bytes sent after SHUT_RD are still delivered.
    server.sendAll(encoder.encode("late"));
    const chunks: Uint8Array[] = [];
    const until = performance.now() + 3000;
    while (concat(chunks).length < 4 && performance.now() < until) {
      const bytes = client.recv(100);
      if (bytes.length > 0) chunks.push(bytes);
      else sleep(0.01);
    }
    assert.equal(decoder.decode(concat(chunks)), "late");
  } finally {
    closeAll(client, server, listener);
  }
});

Deno.test("[F18] shutdown(SHUT_RDWR): the peer reads to the end; this side reads empty and cannot send", () => {
  const { listener, client, server } = connectedPair();
  try {
    client.shutdown(SHUT_RDWR);
    assert.equal(recvToEnd(server).length, 0);
    assert.deepEqual(select([client], [], [], 0)[0], [client]);
    assert.equal(client.recv(16).length, 0);
    checkSocketError(thrownBy(() => client.send(encoder.encode("x"))), ...BROKEN_PIPE, BrokenPipe);
    assert.deepEqual(client.getPeerName(), server.getSockName(), "still connected until close");
    assert.ok(client.fileno() >= 0);
  } finally {
    closeAll(client, server, listener);
  }
  assert.equal(client.fileno(), -1);
});

Deno.test("[F19] shutdown: [Errno 107] when not connected, [Errno 22] for a bad `how`, [Errno 9] closed", () => {
  const socket = new Socket();
  try {
    for (const how of [SHUT_RD, SHUT_WR, SHUT_RDWR]) {
      checkSocketError(thrownBy(() => socket.shutdown(how)), ...NOT_CONNECTED, NotConnected);
    }
    for (const how of [3, -1]) {
      checkSocketError(
        thrownBy(() => socket.shutdown(how)),
        "EINVAL",
        22,
        "[Errno 22] Invalid argument",
        InvalidArgument,
      );
    }
  } finally {
    socket.close();
  }
  checkSocketError(thrownBy(() => socket.shutdown(SHUT_WR)), ...BAD_DESCRIPTOR, BadDescriptor);
});

// ---------------------------------------------------------------------------
// connectEx.

Deno.test("[F20] blocking connectEx: 0 connected, 106 again, 111 refused (twice), then 0; 9 closed", () => {
  const listener = listenLocal();
  const client = new Socket();
  const refused = new Socket();
  const closed = new Socket();
  const accepted: Socket[] = [];
  try {
    assert.equal(client.connectEx(listener.getSockName()), 0);
    assert.deepEqual(client.getPeerName(), listener.getSockName());
    assert.equal(client.connectEx(listener.getSockName()), 106);
    accepted.push(listener.accept()[0]);

    const port = closedPort();
    assert.equal(refused.connectEx([HOST, port]), 111);
    assert.equal(refused.connectEx([HOST, port]), 111);
    assert.equal(refused.connectEx(listener.getSockName()), 0, "a refused socket may try again");
    accepted.push(listener.accept()[0]);

    closed.close();
    assert.equal(closed.connectEx(listener.getSockName()), 9);
  } finally {
    closeAll(client, refused, closed, ...accepted, listener);
  }
});

Deno.test("[F21, F22] non-blocking connectEx: 115; then 0 or 106 when it worked, 111 when refused", () => {
  const listener = listenLocal();
  const good = new Socket();
  const refused = new Socket();
  const refusedAgain = new Socket();
  try {
    good.setBlocking(false);
    assert.equal(good.connectEx(listener.getSockName()), 115);
    assert.deepEqual(select([], [good], [], 5)[1], [good]);
    const second = good.connectEx(listener.getSockName());
    assert.ok(second === 0 || second === 106, `connectEx once connected gave ${second}`);
    assert.equal(good.connectEx(listener.getSockName()), 106);
    assert.equal(good.getSockOpt(SOL_SOCKET, SO_ERROR), 0);
    listener.accept()[0].close();

    const port = closedPort();
    refused.setBlocking(false);
    assert.equal(refused.connectEx([HOST, port]), 115);
    assert.deepEqual(select([], [refused], [], 5)[1], [refused]);
    assert.equal(refused.connectEx([HOST, port]), 111, "connectEx reads the pending error");
    assert.equal(refused.getSockOpt(SOL_SOCKET, SO_ERROR), 0, "... and clears it");

    // A raising connect reads it the same way.
    refusedAgain.setBlocking(false);
    assert.equal(refusedAgain.connectEx([HOST, port]), 115);
    assert.deepEqual(select([], [refusedAgain], [], 5)[1], [refusedAgain]);
    checkSocketError(
      thrownBy(() => refusedAgain.connect([HOST, port])),
      ...REFUSED,
      ConnectionRefused,
    );
  } finally {
    closeAll(good, refused, refusedAgain, listener);
  }
});

// ---------------------------------------------------------------------------
// Options.

Deno.test("[F23] SO_ERROR after a refused non-blocking connect: 111, then 0", () => {
  const fresh = new Socket();
  const refused = new Socket();
  const { listener, client, server } = connectedPair();
  try {
    assert.equal(fresh.getSockOpt(SOL_SOCKET, SO_ERROR), 0);
    assert.equal(client.getSockOpt(SOL_SOCKET, SO_ERROR), 0);
    refused.setBlocking(false);
    assert.throws(() => refused.connect([HOST, closedPort()]), InProgress);
    assert.deepEqual(select([], [refused], [], 5)[1], [refused]);
    assert.equal(refused.getSockOpt(SOL_SOCKET, SO_ERROR), 111);
    assert.equal(refused.getSockOpt(SOL_SOCKET, SO_ERROR), 0, "read and cleared");
    checkSocketError(
      thrownBy(() => fresh.setSockOpt(SOL_SOCKET, SO_ERROR, 1)),
      ...NO_PROTOCOL_OPTION,
    );
  } finally {
    closeAll(fresh, refused, client, server, listener);
  }
});

Deno.test("[F24] SO_REUSEADDR and TCP_NODELAY read back 0 or 1, as Linux stores them", () => {
  const socket = new Socket();
  const { listener, client, server } = connectedPair();
  try {
    for (const [level, name] of [[SOL_SOCKET, SO_REUSEADDR], [IPPROTO_TCP, TCP_NODELAY]]) {
      const values: number[] = [socket.getSockOpt(level, name)];
      for (const value of [1, 5, 0]) {
        socket.setSockOpt(level, name, value);
        values.push(socket.getSockOpt(level, name));
      }
      assert.deepEqual(values, [0, 1, 1, 0], `option ${level}/${name}`);
    }
    // As the article's server does: set before bind, on a listener, on a connection.
    const reusing = new Socket();
    reusing.setSockOpt(SOL_SOCKET, SO_REUSEADDR, 1);
    reusing.bind([HOST, 0]);
    reusing.listen();
    assert.equal(reusing.getSockOpt(SOL_SOCKET, SO_REUSEADDR), 1);
    reusing.close();
    client.setSockOpt(IPPROTO_TCP, TCP_NODELAY, 1);
    assert.equal(client.getSockOpt(IPPROTO_TCP, TCP_NODELAY), 1);
  } finally {
    closeAll(socket, client, server, listener);
  }
});

Deno.test("[F25] SO_RCVBUF and SO_SNDBUF: the rings' limits, DEFAULT_BUFFER_BYTES unless set", () => {
  const limit = 8192;
  const listener = listenLocal();
  const client = new Socket();
  let server: Socket | undefined;
  try {
    assert.equal(client.getSockOpt(SOL_SOCKET, SO_RCVBUF), DEFAULT_BUFFER_BYTES);
    assert.equal(client.getSockOpt(SOL_SOCKET, SO_SNDBUF), DEFAULT_BUFFER_BYTES);
    client.setSockOpt(SOL_SOCKET, SO_RCVBUF, limit);
    client.setSockOpt(SOL_SOCKET, SO_SNDBUF, limit);
    client.connect(listener.getSockName());
    [server] = listener.accept();
    assert.equal(client.getSockOpt(SOL_SOCKET, SO_RCVBUF), limit);
    assert.equal(client.getSockOpt(SOL_SOCKET, SO_SNDBUF), limit);

    // One send takes at most the send ring's limit.
    client.setBlocking(false);
    const sent = client.send(new Uint8Array(64 * 1024));
    assert.ok(sent > 0 && sent <= limit, `one send took ${sent} bytes`);

    // One recv gives at most the receive ring's limit, however long the bytes wait.
    const total = 128 * 1024;
    server.sendAll(patternBytes(total, 7));
    const sizes: number[] = [];
    const chunks: Uint8Array[] = [];
    while (sizes.reduce((sum, size) => sum + size, 0) < total) {
      const bytes = recvWithin(client, 1024 * 1024);
      assert.ok(bytes.length > 0, "end of stream too soon");
      sizes.push(bytes.length);
      chunks.push(bytes);
      sleep(0.005); // time for the ring to fill up again
    }
    assert.ok(Math.max(...sizes) <= limit, `recv sizes: ${sizes.join(", ")}`);
    assert.deepEqual(concat(chunks), patternBytes(total, 7));
  } finally {
    closeAll(client, server, listener);
  }
});

Deno.test("[F26] an unknown option: [Errno 92] Protocol not available; a closed socket: [Errno 9]", () => {
  const socket = new Socket();
  try {
    for (const level of [SOL_SOCKET, IPPROTO_TCP]) {
      checkSocketError(thrownBy(() => socket.getSockOpt(level, 999)), ...NO_PROTOCOL_OPTION);
      checkSocketError(thrownBy(() => socket.setSockOpt(level, 999, 1)), ...NO_PROTOCOL_OPTION);
    }
  } finally {
    socket.close();
  }
  checkSocketError(thrownBy(() => socket.getSockOpt(SOL_SOCKET, SO_REUSEADDR)), ...BAD_DESCRIPTOR);
  checkSocketError(
    thrownBy(() => socket.setSockOpt(SOL_SOCKET, SO_REUSEADDR, 1)),
    ...BAD_DESCRIPTOR,
  );
});

// ---------------------------------------------------------------------------
// recvInto.

Deno.test("[F27] recvInto gives the same bytes as recv, in the caller's buffer", () => {
  const total = 300 * 1024 + 17;
  const pattern = patternBytes(total, 99);
  const a = connectedPair();
  const b = connectedPair();
  try {
    a.client.sendAll(pattern);
    b.client.sendAll(pattern);
    a.client.close();
    b.client.close();
    const byRecv = recvToEnd(a.server);
    const buffer = new Uint8Array(4096);
    const chunks: Uint8Array[] = [];
    for (;;) {
      assert.deepEqual(select([b.server], [], [], 5)[0], [b.server]);
      const count = b.server.recvInto(buffer);
      assert.ok(count >= 0 && count <= buffer.length, `recvInto returned ${count}`);
      if (count === 0) break;
      chunks.push(buffer.slice(0, count));
    }
    assert.deepEqual(byRecv, pattern);
    assert.deepEqual(concat(chunks), pattern);
  } finally {
    closeAll(a.server, a.listener, b.server, b.listener);
  }
});

Deno.test("[F27, F28] recvInto: nbytes caps the count, 0 means the whole buffer; a view keeps its offset", () => {
  const { listener, client, server } = connectedPair();
  try {
    client.sendAll(encoder.encode("abcdefghijklmnopqrst"));
    assert.deepEqual(select([server], [], [], 5)[0], [server]);
    sleep(0.05); // all twenty bytes are in
    const text = (bytes: Uint8Array) =>
      [...bytes].map((byte) => byte ? String.fromCharCode(byte) : ".").join("");

    const four = new Uint8Array(4);
    assert.equal(server.recvInto(four), 4, "no nbytes: the buffer's length");
    assert.equal(text(four), "abcd");

    const eight = new Uint8Array(8);
    assert.equal(server.recvInto(eight, 3), 3);
    assert.equal(text(eight), "efg.....", "nothing past the count is touched");
    eight.fill(0);
    assert.equal(server.recvInto(eight, 0), 8, "0 means the buffer's length");
    assert.equal(text(eight), "hijklmno");

    const six = new Uint8Array(6);
    assert.equal(server.recvInto(six.subarray(2)), 4);
    assert.equal(text(six), "..pqrs", "a view is filled at its own offset");

    assert.equal(server.recvInto(new Uint8Array(0)), 0);
    const one = new Uint8Array(1);
    assert.equal(server.recvInto(one), 1);
    assert.equal(text(one), "t");

    const tooMany = thrownBy(() => server.recvInto(new Uint8Array(8), 9));
    assert.ok(tooMany instanceof RangeError, `expected RangeError, got ${tooMany}`);
    assert.match(tooMany.message, /buffer too small for requested bytes/);
    const negative = thrownBy(() => server.recvInto(new Uint8Array(8), -1));
    assert.ok(negative instanceof RangeError, `expected RangeError, got ${negative}`);
    assert.match(negative.message, /negative buffersize/);
  } finally {
    closeAll(client, server, listener);
  }
});

Deno.test("[F29] recvInto: WouldBlock when non-blocking, 0 at end of stream, 107 unconnected, 9 closed", () => {
  const { listener, client, server } = connectedPair();
  const fresh = new Socket();
  try {
    server.setBlocking(false);
    checkSocketError(
      thrownBy(() => server.recvInto(new Uint8Array(4))),
      ...WOULD_BLOCK,
      WouldBlock,
    );
    client.close();
    assert.deepEqual(select([server], [], [], 5)[0], [server]);
    assert.equal(server.recvInto(new Uint8Array(4)), 0);
    checkSocketError(
      thrownBy(() => fresh.recvInto(new Uint8Array(4))),
      ...NOT_CONNECTED,
      NotConnected,
    );
  } finally {
    closeAll(client, server, fresh, listener);
  }
  checkSocketError(
    thrownBy(() => server.recvInto(new Uint8Array(4))),
    ...BAD_DESCRIPTOR,
    BadDescriptor,
  );
});

// ---------------------------------------------------------------------------
// createConnection and using.

Deno.test("[F30] createConnection connects, with the timeout given, else the default; null is blocking", () => {
  const listener = listenLocal();
  const made: Socket[] = [];
  try {
    const connect = (...timeout: [] | [number | null]) => {
      const socket = createConnection(listener.getSockName(), ...timeout);
      made.push(socket);
      assert.deepEqual(socket.getPeerName(), listener.getSockName());
      made.push(listener.accept()[0]);
      return socket.getTimeout();
    };
    assert.equal(connect(1.5), 1.5);
    assert.equal(connect(), null);
    assert.equal(connect(null), null);
    withDefaultTimeout(2.5, () => {
      assert.equal(connect(), 2.5, "no timeout given: the default");
      assert.equal(connect(null), null, "an explicit null: blocking, whatever the default");
    });
    // The socket works as any other.
    made[0].sendAll(encoder.encode("hi"));
    assert.equal(decoder.decode(recvWithin(made[1], 16)), "hi");
  } finally {
    closeAll(...made, listener);
  }
});

Deno.test("[F30] createConnection: refused is ConnectionRefused; timeout 0 InProgress; negative RangeError", () => {
  const port = closedPort();
  checkSocketError(thrownBy(() => createConnection([HOST, port])), ...REFUSED, ConnectionRefused);
  checkSocketError(
    thrownBy(() => createConnection([HOST, port], 1)),
    ...REFUSED,
    ConnectionRefused,
  );
  const listener = listenLocal();
  try {
    checkSocketError(
      thrownBy(() => createConnection(listener.getSockName(), 0)),
      "EINPROGRESS",
      115,
      "[Errno 115] Operation now in progress",
      InProgress,
    );
    assert.throws(() => createConnection(listener.getSockName(), -1), {
      name: "RangeError",
      message: /Timeout value out of range/,
    });
  } finally {
    listener.close();
  }
});

Deno.test("[F31] `using` closes the socket at the end of the block, also when the block throws", () => {
  let kept: Socket | undefined;
  {
    using socket = new Socket();
    kept = socket;
    assert.ok(socket.fileno() >= 0);
  }
  assert.equal(kept?.fileno(), -1);

  let thrownThrough: Socket | undefined;
  assert.throws(() => {
    using socket = new Socket();
    thrownThrough = socket;
    throw new Error("boom");
  }, /boom/);
  assert.equal(thrownThrough?.fileno(), -1);

  {
    using socket = new Socket();
    socket.close(); // closing inside the block is fine
  }

  // A connection closed by `using`: the peer reads what was sent, then the end.
  const listener = listenLocal();
  let server: Socket | undefined;
  try {
    {
      using client = createConnection(listener.getSockName());
      [server] = listener.accept();
      client.sendAll(encoder.encode("bye"));
    }
    assert.equal(decoder.decode(recvToEnd(server)), "bye");
  } finally {
    closeAll(server, listener);
  }
});
