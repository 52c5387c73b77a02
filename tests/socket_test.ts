/**
 * Unit tests of lib/socket: blocking and non-blocking calls, select, Poll, errors,
 * end of stream, graceful close, backpressure, descriptors, process exit, async waits
 * and many connections at once.
 *
 * Peers that must be independent of the thread under test run as child processes
 * (tests/fixtures/socket_peer.ts, plain `Deno.connect`); peers that need not are a
 * second socket of the layer in this process, which works because the layer's I/O
 * worker, not this thread, moves the bytes.
 *
 * Run: deno test -N -R --allow-run --allow-env --allow-sys tests/socket_test.ts
 */
import assert from "node:assert/strict";
import {
  type Address,
  AddressInUse,
  AlreadyConnected,
  BadDescriptor,
  BlockingIOError,
  BrokenPipe,
  ConnectionRefused,
  ConnectionReset,
  DEFAULT_BUFFER_BYTES,
  InProgress,
  NotConnected,
  NotRegistered,
  Poll,
  POLLHUP,
  POLLIN,
  POLLNVAL,
  POLLOUT,
  select,
  selectAsync,
  sleep,
  Socket,
  SocketError,
  WouldBlock,
} from "../lib/socket/mod.ts";
import { HEADER } from "../lib/socket/header.ts";
import { TX } from "../lib/socket/ring.ts";
import { closedPort, ScriptProcess } from "../tools/process.ts";
import { concat } from "./helpers/bytes.ts";
import { closeAll, connectedPair, listenLocal, patternBytes } from "./helpers/socket_pairs.ts";

const HOST = "127.0.0.1";
const PEER_SCRIPT = new URL("./fixtures/socket_peer.ts", import.meta.url).pathname;
const BLOCKING_RECV_SCRIPT = "tests/fixtures/socket_blocking_recv.ts"; // for ScriptProcess
const encoder = new TextEncoder();
const decoder = new TextDecoder();

// ---------------------------------------------------------------------------
// Helpers.

/** The port a listener got. */
function portOf(listener: Socket): number {
  return listener.getSockName()[1];
}

/**
 * Connects `count` clients to `listener`, one after another (blocking), each added to
 * `clients` before it connects, so that the test's cleanup closes it whatever happens.
 */
function connectClients(listener: Socket, count: number, clients: Socket[]): void {
  for (let i = 0; i < count; i++) {
    const client = new Socket();
    clients.push(client);
    client.connect(listener.getSockName());
  }
}

/** Asserts two byte arrays are equal, naming the first byte that differs. */
function assertSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  assert.equal(actual.length, expected.length, "byte count");
  let firstDifference = -1;
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) {
      firstDifference = i;
      break;
    }
  }
  assert.equal(firstDifference, -1, `first differing byte at offset ${firstDifference}`);
}

/** Reads with blocking `recv` until `count` bytes have arrived. */
function recvExactly(socket: Socket, count: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (total < count) {
    const bytes = socket.recv(count - total);
    assert.ok(bytes.length > 0, `end of stream after ${total} of ${count} bytes`);
    chunks.push(bytes);
    total += bytes.length;
  }
  return concat(chunks);
}

type ErrorClass = abstract new (...args: never[]) => SocketError;

/** Checks a socket error's class, errno name, number and message. */
function checkSocketError(
  error: unknown,
  expectedClass: ErrorClass,
  code: string,
  errno: number,
  message: string,
): SocketError {
  assert.ok(error instanceof expectedClass, `expected ${expectedClass.name}, got ${error}`);
  assert.ok(error instanceof SocketError);
  assert.equal(error.code, code);
  assert.equal(error.errno, errno);
  assert.equal(error.message, message);
  assert.equal(error.name, expectedClass.name);
  return error;
}

/** Runs `call`, which must throw the given socket error. */
function assertSocketError(
  call: () => unknown,
  expectedClass: ErrorClass,
  code: string,
  errno: number,
  message: string,
): SocketError {
  let thrown: unknown = undefined;
  try {
    call();
  } catch (error) {
    thrown = error;
  }
  assert.notEqual(thrown, undefined, `expected ${expectedClass.name}, nothing was thrown`);
  return checkSocketError(thrown, expectedClass, code, errno, message);
}

const WOULD_BLOCK: [ErrorClass, string, number, string] = [
  WouldBlock,
  "EWOULDBLOCK",
  11,
  "[Errno 11] Resource temporarily unavailable",
];
const BAD_DESCRIPTOR: [ErrorClass, string, number, string] = [
  BadDescriptor,
  "EBADF",
  9,
  "[Errno 9] Bad file descriptor",
];
const REFUSED: [ErrorClass, string, number, string] = [
  ConnectionRefused,
  "ECONNREFUSED",
  111,
  "[Errno 111] Connection refused",
];

/** Counts timer ticks, to show the thread was free while something waited. */
class Ticker {
  count = 0;
  readonly #interval: ReturnType<typeof setInterval>;
  constructor(periodMs = 10) {
    this.#interval = setInterval(() => this.count++, periodMs);
  }
  stop(): void {
    clearInterval(this.#interval);
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits, without blocking the thread, until `socket` is readable (5 s at most); then `recv`. */
async function recvWhenReadable(socket: Socket, max: number): Promise<Uint8Array> {
  const [readable] = await selectAsync([socket], [], [], 5);
  if (readable.length === 0) throw new Error("nothing to read within 5 s");
  return socket.recv(max);
}

/** What a peer process left behind. */
interface PeerResult {
  code: number;
  stdout: Uint8Array;
  stderr: string;
}

/** tests/fixtures/socket_peer.ts running as a child process. */
class Peer {
  readonly #child: Deno.ChildProcess;
  readonly #stdout: Promise<ArrayBuffer>;
  readonly #stderr: Promise<string>;
  readonly #hasStdin: boolean;
  #stdinClosed = false;

  constructor(args: (string | number)[], options: { stdin?: boolean } = {}) {
    this.#hasStdin = options.stdin ?? false;
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-N", PEER_SCRIPT, ...args.map(String)],
      stdin: this.#hasStdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    this.#stdout = new Response(this.#child.stdout).arrayBuffer();
    this.#stderr = new Response(this.#child.stderr).text();
  }

  /** Sends a line on the peer's stdin and closes it: the go-ahead for `read-on-signal`. */
  async signal(): Promise<void> {
    if (!this.#hasStdin || this.#stdinClosed) return;
    this.#stdinClosed = true;
    const writer = this.#child.stdin.getWriter();
    await writer.write(encoder.encode("go\n"));
    await writer.close();
  }

  /** Waits for the peer to exit (killing it after `timeoutMs`) and returns its output. */
  async finish(timeoutMs = 10_000): Promise<PeerResult> {
    await this.signal();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const status = await Promise.race([
      this.#child.status,
      new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), timeoutMs)),
    ]);
    clearTimeout(timer);
    if (status === null) {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // it exited meanwhile
      }
    }
    const finalStatus = await this.#child.status;
    const stdout = new Uint8Array(await this.#stdout);
    const stderr = await this.#stderr;
    if (status === null) throw new Error(`peer still running after ${timeoutMs} ms: ${stderr}`);
    return { code: finalStatus.code, stdout, stderr };
  }
}

// ---------------------------------------------------------------------------
// recv: blocking and non-blocking.

Deno.test("blocking recv waits for bytes a peer process sends later, and blocks the thread", async () => {
  // The blocking calls run in a child process with a time limit: a lost end of stream
  // would leave a blocking recv in Atomics.wait for ever, and in this process no timer
  // could end it. The child says how far it got; the peer is another child.
  const child = new ScriptProcess(BLOCKING_RECV_SCRIPT, []);
  const peerDelayMs = 400;
  let peer: Peer | null = null;
  try {
    const listening = await child.waitForLine((text) => text.startsWith("listening on "));
    peer = new Peer([
      "send-later",
      listening.text.slice("listening on ".length),
      peerDelayMs,
      "late hello",
    ]);
    const outcome = await child.finished(10_000).catch((error) => {
      const steps = child.lines.map((line) => line.text).join(", ");
      assert.fail(`the blocking calls never returned (got as far as: ${steps}): ${error.message}`);
    });
    assert.equal(outcome.stderr, "");
    assert.equal(outcome.code, 0);
    const seen = JSON.parse(outcome.lines.at(-1)?.text ?? "{}");
    assert.equal(seen.text, "late hello");
    // The timer was due 20 ms in, but the thread was stuck in recv until the bytes came.
    assert.deepEqual(seen.events, ["recv returned", "timer"]);
    assert.equal(seen.timerAfterRecv, true);
    assert.ok(seen.waitedMs > peerDelayMs / 2, `recv returned after ${seen.waitedMs} ms`);
    // The peer closed after sending: end of stream, and again on later calls.
    assert.deepEqual(seen.endOfStream, [0, 0]);
    const result = await peer.finish();
    assert.equal(result.stderr, "");
    assert.equal(result.code, 0);
  } finally {
    child.kill("SIGKILL");
    await child.finished().catch(() => {});
    await peer?.finish().catch(() => {});
  }
});

Deno.test("non-blocking recv with nothing buffered throws WouldBlock (EWOULDBLOCK, 11)", () => {
  const { listener, client, server } = connectedPair();
  try {
    server.setBlocking(false);
    assert.equal(server.getBlocking(), false);
    const error = assertSocketError(() => server.recv(1024), ...WOULD_BLOCK);
    assert.ok(error instanceof BlockingIOError);
    assert.ok(error instanceof Error);
    client.sendAll(encoder.encode("x"));
    assert.deepEqual(select([server], [], [], 5)[0], [server]);
    assert.deepEqual(server.recv(1024), encoder.encode("x"));
    assertSocketError(() => server.recv(1024), ...WOULD_BLOCK);
    // Back to blocking mode: the same call now waits for the bytes.
    server.setBlocking(true);
    client.sendAll(encoder.encode("yz"));
    assert.deepEqual(recvExactly(server, 2), encoder.encode("yz"));
  } finally {
    closeAll(client, server, listener);
  }
});

Deno.test("recv returns at most max bytes and keeps the rest for later", () => {
  const { listener, client, server } = connectedPair();
  try {
    client.sendAll(encoder.encode("abcdefgh"));
    const first = recvExactly(server, 3);
    assert.equal(decoder.decode(first), "abc");
    assert.equal(decoder.decode(recvExactly(server, 5)), "defgh");
    assert.equal(server.recv(0).length, 0);
  } finally {
    closeAll(client, server, listener);
  }
});

// ---------------------------------------------------------------------------
// select.

/** Wraps a socket: select must accept anything with a fileno(). */
class Labelled {
  constructor(readonly label: string, readonly socket: Socket) {}
  fileno(): number {
    return this.socket.fileno();
  }
}

Deno.test("select returns the ready subsets, in the order given", () => {
  const a = connectedPair();
  const b = connectedPair();
  try {
    assert.deepEqual(select([a.server, b.server], [], [], 0), [[], [], []]);
    b.client.sendAll(encoder.encode("for b"));
    // Blocks until b's bytes arrive; a has none.
    assert.deepEqual(select([a.server, b.server], [], [], 5), [[b.server], [], []]);
    // Connected sockets with room in their send buffers are writable.
    const [readable, writable, exceptional] = select(
      [a.server, b.server],
      [b.client, a.server],
      [a.server, b.server],
      0,
    );
    assert.deepEqual(readable, [b.server]);
    assert.deepEqual(writable, [b.client, a.server]);
    assert.deepEqual(exceptional, []);
    // Once the bytes are read, b is not readable any more.
    assert.equal(decoder.decode(recvExactly(b.server, 5)), "for b");
    assert.deepEqual(select([a.server, b.server], [], [], 0), [[], [], []]);
  } finally {
    closeAll(a.client, a.server, a.listener, b.client, b.server, b.listener);
  }
});

Deno.test("select with a timeout returns empty lists after about that long; 0 only looks", () => {
  const { listener, client, server } = connectedPair();
  try {
    const start = performance.now();
    const result = select([server, listener], [], [], 0.25);
    const waited = performance.now() - start;
    assert.deepEqual(result, [[], [], []]);
    assert.ok(waited >= 200 && waited < 2500, `waited ${waited} ms for a 250 ms timeout`);

    const lookStart = performance.now();
    assert.deepEqual(select([server, listener], [], [], 0), [[], [], []]);
    const looked = performance.now() - lookStart;
    assert.ok(looked < waited / 5, `a timeout of 0 took ${looked} ms (vs ${waited} ms)`);

    // A timeout that does not run out: select returns as soon as something is ready.
    client.sendAll(encoder.encode("!"));
    const readyStart = performance.now();
    assert.deepEqual(select([server], [], [], 10), [[server], [], []]);
    assert.ok(performance.now() - readyStart < 2000);
  } finally {
    closeAll(client, server, listener);
  }
});

Deno.test("select accepts any object with fileno() and returns those objects", () => {
  const a = connectedPair();
  const b = connectedPair();
  try {
    const wrappedA = new Labelled("a", a.server);
    const wrappedB = new Labelled("b", b.server);
    a.client.sendAll(encoder.encode("to a"));
    assert.deepEqual(select([wrappedA, wrappedB], [], [], 5), [[wrappedA], [], []]);
    const [readable, writable] = select([wrappedA, wrappedB], [wrappedB], [], 0);
    assert.equal(readable.length, 1);
    assert.equal(readable[0], wrappedA);
    assert.equal(readable[0].label, "a");
    assert.deepEqual(writable, [wrappedB]);
    // A plain object works as well as a class instance.
    const plain = { fileno: () => a.server.fileno() };
    assert.deepEqual(select([plain], [], [], 0)[0], [plain]);
    // A closed socket has no descriptor: select refuses it.
    b.client.close();
    assertSocketError(() => select([b.client], [], [], 0), ...BAD_DESCRIPTOR);
  } finally {
    closeAll(a.client, a.server, a.listener, b.client, b.server, b.listener);
  }
});

Deno.test("select: a listener is readable when a connection waits to be accepted", () => {
  const listener = listenLocal();
  const client = new Socket();
  try {
    assert.deepEqual(select([listener], [], [], 0), [[], [], []]);
    client.connect(listener.getSockName());
    assert.deepEqual(select([listener], [], [], 5), [[listener], [], []]);
    // Still readable until accepted (level, not edge).
    assert.deepEqual(select([listener], [], [], 0), [[listener], [], []]);
    const [server] = listener.accept();
    assert.deepEqual(select([listener], [], [], 0), [[], [], []]);
    server.close();
  } finally {
    closeAll(client, listener);
  }
});

Deno.test("selectAsync waits without blocking the thread: timers fire meanwhile", async () => {
  const { listener, client, server } = connectedPair();
  const ticker = new Ticker(10);
  try {
    setTimeout(() => client.sendAll(encoder.encode("later")), 200);
    const result = await selectAsync([server], [], [], 5);
    assert.deepEqual(result, [[server], [], []]);
    assert.ok(ticker.count >= 5, `only ${ticker.count} ticks while selectAsync waited`);
    assert.equal(decoder.decode(recvExactly(server, 5)), "later");

    const ticksBefore = ticker.count;
    const start = performance.now();
    assert.deepEqual(await selectAsync([server], [], [], 0.2), [[], [], []]);
    const waited = performance.now() - start;
    assert.ok(waited >= 150 && waited < 2500, `waited ${waited} ms for a 200 ms timeout`);
    assert.ok(ticker.count - ticksBefore >= 5, "timers ran during the timed-out selectAsync");
  } finally {
    ticker.stop();
    closeAll(client, server, listener);
  }
});

// ---------------------------------------------------------------------------
// Poll.

Deno.test("Poll: register, modify, unregister; POLLIN is level-triggered", () => {
  const { listener, client, server } = connectedPair();
  const fd = server.fileno();
  try {
    const poller = new Poll();
    poller.register(server, POLLIN);
    assert.deepEqual(poller.poll(0), []);
    client.sendAll(encoder.encode("abc"));
    assert.deepEqual(poller.poll(5000), [[fd, POLLIN]]);
    // Nothing read yet: reported again, and again.
    assert.deepEqual(poller.poll(0), [[fd, POLLIN]]);
    assert.deepEqual(poller.poll(0), [[fd, POLLIN]]);
    assert.equal(decoder.decode(server.recv(1)), "a");
    assert.deepEqual(poller.poll(0), [[fd, POLLIN]], "two bytes are still unread");
    assert.equal(decoder.decode(recvExactly(server, 2)), "bc");
    assert.deepEqual(poller.poll(0), []);

    poller.modify(server, POLLIN | POLLOUT);
    assert.deepEqual(poller.poll(0), [[fd, POLLOUT]]);
    client.sendAll(encoder.encode("d"));
    const deadline = performance.now() + 5000;
    let events = poller.poll(0);
    while (events.length === 1 && events[0][1] === POLLOUT && performance.now() < deadline) {
      sleep(0.005);
      events = poller.poll(0);
    }
    assert.deepEqual(events, [[fd, POLLIN | POLLOUT]]);
    poller.modify(fd, POLLOUT); // by descriptor number as well
    assert.deepEqual(poller.poll(0), [[fd, POLLOUT]]);

    // Several descriptors; register by number.
    poller.register(client.fileno(), POLLOUT);
    const both = poller.poll(0).sort((x, y) => x[0] - y[0]);
    assert.deepEqual(both, [[fd, POLLOUT], [client.fileno(), POLLOUT]].sort((x, y) => x[0] - y[0]));

    poller.unregister(server);
    poller.unregister(client.fileno());
    assert.deepEqual(poller.poll(0), [], "unregistered even though a byte is unread");
    const error = assertSocketError(
      () => poller.unregister(server),
      NotRegistered,
      "EINVAL",
      22,
      `[Errno 22] descriptor ${fd} is not registered`,
    );
    assert.ok(error instanceof SocketError);
    assertSocketError(
      () => poller.modify(server, POLLIN),
      NotRegistered,
      "EINVAL",
      22,
      `[Errno 22] descriptor ${fd} is not registered`,
    );
  } finally {
    closeAll(client, server, listener);
  }
});

Deno.test("Poll: timeout in milliseconds; 0 only looks", () => {
  const { listener, client, server } = connectedPair();
  try {
    const poller = new Poll();
    poller.register(server, POLLIN);
    const start = performance.now();
    assert.deepEqual(poller.poll(200), []);
    const waited = performance.now() - start;
    assert.ok(waited >= 150 && waited < 2500, `waited ${waited} ms for a 200 ms timeout`);
    const lookStart = performance.now();
    assert.deepEqual(poller.poll(0), []);
    assert.ok(performance.now() - lookStart < waited / 5);
  } finally {
    closeAll(client, server, listener);
  }
});

Deno.test("Poll: POLLNVAL for closed or unknown descriptors, POLLHUP for a fresh socket", () => {
  const { listener, client, server } = connectedPair();
  const fresh = new Socket();
  try {
    const poller = new Poll();
    const serverFd = server.fileno();
    poller.register(server, POLLIN);
    server.close();
    assert.deepEqual(poller.poll(0), [[serverFd, POLLNVAL]]);
    poller.unregister(serverFd);
    poller.register(999, POLLIN);
    assert.deepEqual(poller.poll(0), [[999, POLLNVAL]]);
    poller.unregister(999);
    // As on Linux, a socket that was never connected reports a hang-up, asked or not.
    poller.register(fresh, POLLIN);
    assert.deepEqual(poller.poll(0), [[fresh.fileno(), POLLHUP]]);
    // A closed socket cannot be registered: it has no descriptor any more.
    assertSocketError(() => poller.register(server, POLLIN), ...BAD_DESCRIPTOR);
  } finally {
    closeAll(client, server, listener, fresh);
  }
});

Deno.test("Poll: a registered socket closed after an idle poll is reported with POLLNVAL", () => {
  const { listener, client, server } = connectedPair();
  try {
    const poller = new Poll();
    poller.register(server, POLLIN);
    assert.deepEqual(poller.poll(0), [], "nothing to read yet");
    const fd = server.fileno();
    server.close();
    // poll(2) reports a registered descriptor that is no longer open with POLLNVAL at
    // once, whatever happened before; a blocking poll() must not sleep through it.
    assert.deepEqual(poller.poll(0), [[fd, POLLNVAL]]);
    const start = performance.now();
    assert.deepEqual(poller.poll(300), [[fd, POLLNVAL]]);
    assert.ok(performance.now() - start < 150, "poll waited although a descriptor was invalid");
  } finally {
    closeAll(client, server, listener);
  }
});

Deno.test("Poll: POLLHUP and ECONNRESET once a peer process resets the connection", async () => {
  const listener = listenLocal();
  // The peer exits without reading what we send: its system answers with a reset.
  const peer = new Peer(["exit-unread", portOf(listener), 200]);
  try {
    const [connection] = listener.accept();
    connection.sendAll(patternBytes(1024));
    const poller = new Poll();
    poller.register(connection, POLLIN);
    const events = await poller.pollAsync(5000);
    assert.equal(events.length, 1);
    assert.equal(events[0][0], connection.fileno());
    assert.ok(events[0][1] & POLLIN, `events ${events[0][1]}: POLLIN expected`);
    assert.ok(events[0][1] & POLLHUP, `events ${events[0][1]}: POLLHUP expected`);
    assertSocketError(
      () => connection.recv(1024),
      ConnectionReset,
      "ECONNRESET",
      104,
      "[Errno 104] Connection reset by peer",
    );
    assert.equal(connection.recv(1024).length, 0, "after the reset, end of stream");
    connection.close();
    assert.equal((await peer.finish()).code, 0);
  } finally {
    listener.close();
    await peer.finish().catch(() => {});
  }
});

Deno.test("Poll.pollAsync waits without blocking the thread", async () => {
  const { listener, client, server } = connectedPair();
  const ticker = new Ticker(10);
  try {
    const poller = new Poll();
    poller.register(server, POLLIN);
    setTimeout(() => client.sendAll(encoder.encode("ping")), 150);
    assert.deepEqual(await poller.pollAsync(5000), [[server.fileno(), POLLIN]]);
    assert.ok(ticker.count >= 4, `only ${ticker.count} ticks while pollAsync waited`);
    assert.equal(decoder.decode(recvExactly(server, 4)), "ping");
    const ticksBefore = ticker.count;
    assert.deepEqual(await poller.pollAsync(120), []);
    assert.ok(ticker.count - ticksBefore >= 3, "timers ran during the timed-out pollAsync");
  } finally {
    ticker.stop();
    closeAll(client, server, listener);
  }
});

// ---------------------------------------------------------------------------
// End of stream and errors.

Deno.test("EOF: an empty Uint8Array once the peer closed, and again on later calls", () => {
  const { listener, client, server } = connectedPair();
  try {
    client.sendAll(encoder.encode("bye"));
    client.close();
    assert.equal(decoder.decode(recvExactly(server, 3)), "bye");
    const end = server.recv(1024);
    assert.ok(end instanceof Uint8Array);
    assert.equal(end.length, 0);
    assert.equal(server.recv(1024).length, 0);
    // Non-blocking mode: end of stream is still an empty read, not WouldBlock.
    server.setBlocking(false);
    assert.equal(server.recv(1024).length, 0);
    assert.deepEqual(select([server], [], [], 0)[0], [server], "EOF counts as readable");
  } finally {
    closeAll(client, server, listener);
  }
});

Deno.test("connect to a closed port: ConnectionRefused, [Errno 111] Connection refused", () => {
  const socket = new Socket();
  try {
    assertSocketError(() => socket.connect([HOST, closedPort()]), ...REFUSED);
    assertSocketError(
      () => socket.getPeerName(),
      NotConnected,
      "ENOTCONN",
      107,
      "[Errno 107] Transport endpoint is not connected",
    );
  } finally {
    socket.close();
  }
});

Deno.test("non-blocking connect: InProgress, then writable, then the pending error", () => {
  const refused = new Socket();
  const listener = listenLocal();
  const good = new Socket();
  try {
    refused.setBlocking(false);
    assertSocketError(
      () => refused.connect([HOST, closedPort()]),
      InProgress,
      "EINPROGRESS",
      115,
      "[Errno 115] Operation now in progress",
    );
    assert.deepEqual(select([], [refused], [], 5), [[], [refused], []]);
    const pending = refused.getPendingError();
    checkSocketError(pending, ...REFUSED);
    assert.equal(refused.getPendingError(), null, "the pending error is reported once");

    good.setBlocking(false);
    assert.throws(() => good.connect(listener.getSockName()), InProgress);
    assert.deepEqual(select([], [good], [], 5), [[], [good], []]);
    assert.equal(good.getPendingError(), null);
    assert.deepEqual(good.getPeerName(), listener.getSockName());
    const [server] = listener.accept();
    assert.deepEqual(server.getPeerName(), good.getSockName());
    server.close();
  } finally {
    closeAll(refused, good, listener);
  }
});

Deno.test("a closed listener's port refuses connections as soon as close() returns", () => {
  // As close(2) does: once close() returns, nothing listens on the port any more.
  const outcomes: string[] = [];
  for (let round = 0; round < 5; round++) {
    const listener = listenLocal();
    const address = listener.getSockName();
    listener.close();
    const client = new Socket();
    try {
      client.connect(address);
      outcomes.push("connected");
    } catch (error) {
      outcomes.push(error instanceof SocketError ? error.code : String(error));
    } finally {
      client.close();
    }
  }
  assert.deepEqual(outcomes, Array(5).fill("ECONNREFUSED"));
});

Deno.test("a closed listener's port can be bound again as soon as close() returns", () => {
  // Deno's listeners use SO_REUSEADDR (as the lesson servers ask), so on Linux a port
  // whose listener is closed can be bound again at once.
  const notListening = new Socket();
  notListening.bind([HOST, 0]);
  const boundAddress = notListening.getSockName();
  notListening.close();
  const rebound = new Socket();
  try {
    rebound.bind(boundAddress); // bound, never listening: this one works
  } finally {
    rebound.close();
  }
  // Listening (so an accept is under way in the worker) when closed:
  const outcomes: string[] = [];
  for (let round = 0; round < 5; round++) {
    const listener = listenLocal();
    const address = listener.getSockName();
    listener.close();
    const again = new Socket();
    try {
      again.bind(address);
      again.listen();
      assert.deepEqual(again.getSockName(), address);
      outcomes.push("bound");
    } catch (error) {
      outcomes.push(error instanceof SocketError ? error.code : String(error));
    } finally {
      again.close();
    }
  }
  assert.deepEqual(outcomes, Array(5).fill("bound"));
});

Deno.test("connect twice: EALREADY while in progress, EISCONN once connected", () => {
  const listener = listenLocal();
  const client = new Socket();
  try {
    client.setBlocking(false);
    assert.throws(() => client.connect(listener.getSockName()), InProgress);
    let second: unknown = null;
    try {
      client.connect(listener.getSockName());
    } catch (error) {
      second = error;
    }
    // The attempt may already have finished on loopback; both answers are POSIX's.
    assert.ok(second instanceof SocketError, `got ${second}`);
    assert.ok(["EALREADY", "EISCONN"].includes(second.code), second.code);
    assert.deepEqual(select([], [client], [], 5)[1], [client]);
    assertSocketError(
      () => client.connect(listener.getSockName()),
      AlreadyConnected,
      "EISCONN",
      106,
      "[Errno 106] Transport endpoint is already connected",
    );
    listener.setBlocking(false);
    assert.deepEqual(select([listener], [], [], 5)[0], [listener]);
    listener.accept()[0].close();
  } finally {
    closeAll(client, listener);
  }
});

Deno.test("bind to a port in use: AddressInUse, [Errno 98] Address already in use", () => {
  const listener = listenLocal();
  const second = new Socket();
  const third = new Socket();
  const denoListener = Deno.listen({ hostname: HOST, port: 0 });
  try {
    assertSocketError(
      () => second.bind(listener.getSockName()),
      AddressInUse,
      "EADDRINUSE",
      98,
      "[Errno 98] Address already in use",
    );
    // A port held by something other than this layer is in use just the same.
    assert.throws(() => third.bind([HOST, denoListener.addr.port]), AddressInUse);
  } finally {
    denoListener.close();
    closeAll(listener, second, third);
  }
});

/** Sends (with `send`) until the layer reports the peer has gone; returns that error. */
function sendUntilError(send: (bytes: Uint8Array) => void): unknown {
  const chunk = patternBytes(64 * 1024, 7);
  const deadline = performance.now() + 5000;
  while (performance.now() < deadline) {
    try {
      send(chunk);
    } catch (error) {
      return error;
    }
    sleep(0.005);
  }
  return null;
}

Deno.test("send and sendAll to a peer that left throw BrokenPipe or ConnectionReset", () => {
  for (const method of ["send", "sendAll"] as const) {
    const { listener, client, server } = connectedPair();
    try {
      client.close();
      const error = sendUntilError((bytes) => {
        if (method === "send") server.send(bytes);
        else server.sendAll(bytes);
      });
      assert.ok(
        error instanceof BrokenPipe || error instanceof ConnectionReset,
        `${method}: expected BrokenPipe or ConnectionReset, got ${error}`,
      );
      if (error instanceof BrokenPipe) {
        checkSocketError(error, BrokenPipe, "EPIPE", 32, "[Errno 32] Broken pipe");
      } else {checkSocketError(
          error,
          ConnectionReset,
          "ECONNRESET",
          104,
          "[Errno 104] Connection reset by peer",
        );}
      // And from then on, every send fails.
      assert.throws(
        () => server.send(encoder.encode("more")),
        (e) => e instanceof BrokenPipe || e instanceof ConnectionReset,
      );
    } finally {
      closeAll(server, listener);
    }
  }
});

Deno.test("after close: recv, send and the rest throw BadDescriptor (EBADF); close twice is fine", () => {
  const { listener, client, server } = connectedPair();
  server.close();
  server.close();
  assert.equal(server.fileno(), -1);
  assertSocketError(() => server.recv(10), ...BAD_DESCRIPTOR);
  assertSocketError(() => server.send(encoder.encode("x")), ...BAD_DESCRIPTOR);
  assertSocketError(() => server.sendAll(encoder.encode("x")), ...BAD_DESCRIPTOR);
  assertSocketError(() => server.getSockName(), ...BAD_DESCRIPTOR);
  assertSocketError(() => server.getPeerName(), ...BAD_DESCRIPTOR);
  assertSocketError(() => server.setBlocking(false), ...BAD_DESCRIPTOR);
  listener.close();
  assertSocketError(() => listener.accept(), ...BAD_DESCRIPTOR);
  const fresh = new Socket();
  fresh.close();
  assertSocketError(() => fresh.connect([HOST, 1]), ...BAD_DESCRIPTOR);
  assertSocketError(() => fresh.bind([HOST, 0]), ...BAD_DESCRIPTOR);
  client.close();
  client.close();
});

// ---------------------------------------------------------------------------
// Delivery, backpressure, bytes untouched.

Deno.test("close delivers everything sent before it: 5 MiB sendAll, then close", async () => {
  const listener = listenLocal();
  const peer = new Peer(["read-all", portOf(listener)]);
  try {
    const [connection] = listener.accept();
    const data = patternBytes(5 * 1024 * 1024, 42);
    connection.sendAll(data);
    connection.close(); // returns at once; the bytes still in buffers must follow
    const result = await peer.finish();
    assert.equal(result.stderr, "");
    assert.equal(result.code, 0);
    assertSameBytes(result.stdout, data);
  } finally {
    listener.close();
    await peer.finish().catch(() => {});
  }
});

Deno.test("backpressure: a reader that stops stalls a non-blocking sender; draining resumes it", async () => {
  const listener = listenLocal();
  const peer = new Peer(["read-on-signal", portOf(listener)], { stdin: true });
  const limit = 8 * 1024 * 1024;
  const data = patternBytes(limit + 2 * 1024 * 1024, 9);
  try {
    const [connection] = listener.accept();
    connection.setBlocking(false);
    let sent = 0;
    let wouldBlocks = 0;
    let partialSends = 0;
    // Send until the socket stays unwritable for 200 ms: the buffers are full.
    for (;;) {
      assert.ok(sent < limit, `still accepting bytes after ${sent}`);
      try {
        const taken = connection.send(data.subarray(sent, sent + 64 * 1024));
        assert.ok(taken > 0 && taken <= 64 * 1024);
        if (taken < 64 * 1024) partialSends++;
        sent += taken;
      } catch (error) {
        checkSocketError(error, ...WOULD_BLOCK);
        wouldBlocks++;
        if (select([], [connection], [], 0.2)[1].length === 0) break;
      }
    }
    assert.ok(wouldBlocks >= 1);
    assert.ok(partialSends >= 1, "send never returned fewer bytes than it was given");
    assert.ok(sent >= 64 * 1024, `stalled after only ${sent} bytes`);
    // Stalled for good: more attempts take nothing, and the send ring stays bounded.
    for (let attempt = 0; attempt < 20; attempt++) {
      assertSocketError(() => connection.send(data.subarray(sent, sent + 1024)), ...WOULD_BLOCK);
    }
    assert.deepEqual(select([], [connection], [], 0.1), [[], [], []]);
    assertSocketError(() => connection.send(data.subarray(sent, sent + 1)), ...WOULD_BLOCK);
    assert.ok(Atomics.load(connection.header, TX.CAPACITY) <= DEFAULT_BUFFER_BYTES);

    // Let the reader go: sending resumes, and everything arrives, in order.
    await peer.signal();
    while (sent < data.length) {
      const [, writable] = select([], [connection], [], 5);
      assert.equal(writable.length, 1, `no progress after ${sent} bytes`);
      try {
        sent += connection.send(data.subarray(sent));
      } catch (error) {
        if (!(error instanceof WouldBlock)) throw error;
      }
    }
    connection.close();
    const result = await peer.finish();
    assert.equal(result.code, 0, result.stderr);
    assertSameBytes(result.stdout, data);
  } finally {
    listener.close();
    await peer.finish().catch(() => {});
  }
});

Deno.test("a multi-byte character split across recv calls decodes with a streaming TextDecoder", () => {
  const { listener, client, server } = connectedPair();
  try {
    const text = "h€llo 🎉 done";
    const bytes = encoder.encode(text);
    assert.deepEqual([...bytes.subarray(1, 4)], [0xe2, 0x82, 0xac]); // €
    const streaming = new TextDecoder();
    // First only 'h' and the first byte of '€'.
    client.sendAll(bytes.subarray(0, 2));
    const first = recvExactly(server, 2);
    assert.deepEqual([...first], [0x68, 0xe2], "bytes pass untouched");
    assert.equal(streaming.decode(first, { stream: true }), "h");
    // Then the rest; read the 4-byte emoji one byte per recv.
    client.sendAll(bytes.subarray(2));
    let decoded = "h";
    const restBytes = recvExactly(server, 5); // the last two bytes of "€", then "llo"
    decoded += streaming.decode(restBytes, { stream: true });
    assert.equal(decoded, "h€llo");
    decoded += streaming.decode(server.recv(1), { stream: true }); // ' '
    const emojiParts: string[] = [];
    for (let i = 0; i < 4; i++) {
      const one = server.recv(1);
      assert.equal(one.length, 1);
      emojiParts.push(streaming.decode(one, { stream: true }));
    }
    assert.deepEqual(emojiParts, ["", "", "", "🎉"]);
    decoded += emojiParts.join("");
    client.close();
    for (;;) {
      const more = server.recv(1024);
      if (more.length === 0) break;
      decoded += streaming.decode(more, { stream: true });
    }
    decoded += streaming.decode();
    assert.equal(decoded, text);
    // A non-streaming decoder on the same split would have produced replacement characters.
    assert.equal(new TextDecoder().decode(first), "h\ufffd");
  } finally {
    closeAll(client, server, listener);
  }
});

// ---------------------------------------------------------------------------
// Descriptors and process lifetime.

Deno.test("descriptors: lowest free first; fileno() is -1 after close", () => {
  const a = new Socket();
  const b = new Socket();
  const c = new Socket();
  try {
    assert.deepEqual([a.fileno(), b.fileno(), c.fileno()], [3, 4, 5]);
    b.close();
    assert.equal(b.fileno(), -1);
    const d = new Socket();
    assert.equal(d.fileno(), 4);
    const e = new Socket();
    assert.equal(e.fileno(), 6);
    a.close();
    // Accepted connections take the lowest free descriptor too.
    const listener = listenLocal(); // 3
    const client = new Socket(); // 7
    client.connect(listener.getSockName());
    const [server] = listener.accept();
    assert.deepEqual([listener.fileno(), client.fileno(), server.fileno()], [3, 7, 8]);
    closeAll(d, e, listener, client, server);
  } finally {
    closeAll(a, b, c);
  }
});

// ---------------------------------------------------------------------------
// accept.

Deno.test("accept: WouldBlock when non-blocking with nobody waiting; [socket, [host, port]]", () => {
  const listener = listenLocal();
  const client = new Socket();
  try {
    listener.setBlocking(false);
    assertSocketError(() => listener.accept(), ...WOULD_BLOCK);
    client.connect(listener.getSockName());
    assert.deepEqual(select([listener], [], [], 5)[0], [listener]);
    const accepted = listener.accept();
    assert.equal(accepted.length, 2);
    const [server, address] = accepted;
    assert.ok(server instanceof Socket);
    const clientAddress: Address = client.getSockName();
    assert.equal(clientAddress[0], HOST);
    assert.ok(clientAddress[1] > 0);
    assert.deepEqual(address, clientAddress);
    assert.deepEqual(server.getPeerName(), clientAddress);
    assert.deepEqual(server.getSockName(), client.getPeerName());
    assert.deepEqual(server.getSockName(), listener.getSockName());
    assert.equal(server.getBlocking(), true, "an accepted socket starts blocking, as in Python");
    assertSocketError(() => listener.accept(), ...WOULD_BLOCK);
    server.close();
  } finally {
    closeAll(client, listener);
  }
});

Deno.test("accept hands out connections in the order they came, each with its own bytes", () => {
  // More clients than the connection sockets a listener keeps ready ahead (two).
  const listener = listenLocal(16);
  const clients: Socket[] = [];
  const accepted: Socket[] = [];
  try {
    connectClients(listener, 6, clients);
    for (const [i, client] of clients.entries()) client.sendAll(encoder.encode(`client ${i}`));
    for (let i = 0; i < clients.length; i++) {
      const [server, address] = listener.accept();
      accepted.push(server);
      assert.deepEqual(address, clients[i].getSockName(), `accept ${i + 1}: the peer`);
      assert.equal(decoder.decode(server.recv(64)), `client ${i}`);
    }
  } finally {
    closeAll(...clients, ...accepted, listener);
  }
});

Deno.test("Poll sees bytes that came before accept, and the ones that come after", async () => {
  const listener = listenLocal();
  const client = new Socket();
  let server: Socket | undefined;
  const poller = new Poll();
  try {
    // As a reactor does: the listener is watched, and polled while the connection
    // waits to be accepted, its bytes already in its buffer.
    poller.register(listener, POLLIN);
    client.connect(listener.getSockName());
    client.sendAll(encoder.encode("early"));
    await pause(50);
    assert.deepEqual(poller.poll(1000), [[listener.fileno(), POLLIN]]);
    [server] = listener.accept();
    poller.unregister(listener);
    poller.register(server, POLLIN);
    assert.deepEqual(poller.poll(1000), [[server.fileno(), POLLIN]]);
    assert.equal(decoder.decode(server.recv(64)), "early");
    assert.deepEqual(poller.poll(0), []);
    client.sendAll(encoder.encode("late"));
    assert.deepEqual(poller.poll(1000), [[server.fileno(), POLLIN]]);
    assert.equal(decoder.decode(server.recv(64)), "late");
  } finally {
    closeAll(client, listener, ...(server ? [server] : []));
  }
});

Deno.test("closing a listener ends the connections it had not handed out", async () => {
  const listener = listenLocal(8);
  const clients: Socket[] = [];
  try {
    connectClients(listener, 4, clients);
    await pause(100); // the worker has taken them all from the system's queue
    assert.equal(Atomics.load(listener.header, HEADER.PENDING), 4);
    listener.close();
    for (const [index, client] of clients.entries()) {
      let ending: string;
      try {
        const bytes = await recvWhenReadable(client, 16);
        ending = bytes.length === 0 ? "end of stream" : `${bytes.length} bytes`;
      } catch (error) {
        ending = error instanceof ConnectionReset ? "end of stream" : String(error);
      }
      assert.equal(ending, "end of stream", `client ${index + 1}`);
    }
  } finally {
    closeAll(...clients, listener);
  }
});

// ---------------------------------------------------------------------------
// Many sockets.

Deno.test("200 connections at once through one listener, each echoing its own message", () => {
  const count = 200;
  const listener = listenLocal(); // default backlog: fewer than 200 wait at a time
  const clients: Socket[] = [];
  const servers: Socket[] = [];
  try {
    const messages = Array.from(
      { length: count },
      (_, i) => encoder.encode(`message ${i}: ${"é".repeat(i % 17)}${"x".repeat(i)}|`),
    );
    connectClients(listener, count, clients);
    const clientByPort = new Map(clients.map((client, i) => [client.getSockName()[1], i]));
    for (let i = 0; i < count; i++) {
      const [server, [host, port]] = listener.accept();
      assert.equal(host, HOST);
      assert.ok(clientByPort.has(port), `accepted an unknown peer port ${port}`);
      servers.push(server);
    }
    assert.equal(new Set(servers.map((s) => s.getPeerName()[1])).size, count);
    for (let i = 0; i < count; i++) clients[i].sendAll(messages[i]);
    // An echo server in a select loop.
    const total = messages.reduce((sum, message) => sum + message.length, 0);
    let echoed = 0;
    while (echoed < total) {
      const [readable] = select(servers, [], [], 5);
      assert.ok(readable.length > 0, `select timed out after ${echoed} of ${total} bytes`);
      for (const server of readable) {
        const bytes = server.recv(65536);
        server.sendAll(bytes);
        echoed += bytes.length;
      }
    }
    for (let i = 0; i < count; i++) {
      assertSameBytes(recvExactly(clients[i], messages[i].length), messages[i]);
    }
    assert.deepEqual(select(clients, [], [], 0)[0], [], "nothing extra arrived");
  } finally {
    closeAll(...clients, ...servers, listener);
  }
  // Every descriptor is free again.
  const next = new Socket();
  assert.equal(next.fileno(), 3);
  next.close();
});

// ---------------------------------------------------------------------------
// sleep.

Deno.test("sleep really blocks the thread: a timer due meanwhile fires after it", async () => {
  const events: string[] = [];
  setTimeout(() => events.push("timer"), 10);
  const start = performance.now();
  sleep(0.15);
  const slept = performance.now() - start;
  events.push("sleep returned");
  await pause(30);
  assert.deepEqual(events, ["sleep returned", "timer"]);
  assert.ok(slept >= 140, `slept ${slept} ms`);
  assert.throws(() => sleep(-1), RangeError);
});

// ---------------------------------------------------------------------------
// backlog.

Deno.test("a listener holds at most `backlog` connections waiting for accept", async () => {
  const backlog = 2;
  const listener = listenLocal(backlog);
  const clients: Socket[] = [];
  const accepted: Socket[] = [];
  const waiting = () => Atomics.load(listener.header, HEADER.PENDING);
  try {
    // Five connect: the system's own queue takes them all, the layer at most two.
    connectClients(listener, 5, clients);
    await pause(300); // time enough for the I/O worker to take more than it should
    assert.equal(waiting(), backlog, "connections waiting for accept");
    // Each accept makes room for one more; all five come through, one at a time.
    for (let i = 0; i < clients.length; i++) {
      assert.equal((await selectAsync([listener], [], [], 5))[0].length, 1, `accept ${i + 1}`);
      const [server] = listener.accept();
      accepted.push(server);
      await pause(50);
      assert.ok(waiting() <= backlog, `${waiting()} waiting after accept ${i + 1}`);
    }
    assert.equal(waiting(), 0);
    const peers = new Set(accepted.map((server) => server.getPeerName()[1]));
    assert.deepEqual(peers, new Set(clients.map((client) => client.getSockName()[1])));
  } finally {
    closeAll(...clients, ...accepted, listener);
  }
});
