/**
 * The socket layer's trace hooks (lib/trace/mod.ts has the schema), recorded in-process
 * with startTracing: each call that really waited as a B/E pair on the main lane, the
 * facts of each socket on its own lane, and would-block errors counted.
 *
 * Run: deno test -N -R --allow-run tests/socket_trace_test.ts
 */
import assert from "node:assert/strict";
import {
  InProgress,
  select,
  sleep,
  Socket,
  socketPair,
  SocketTimeout,
  WouldBlock,
} from "../lib/socket/mod.ts";
import {
  laneOfFd,
  MAIN_LANE,
  startTracing,
  stopTracing,
  type TraceEvent,
} from "../lib/trace/mod.ts";
import { traced } from "./helpers/traced.ts";

const PEER_SCRIPT = new URL("./fixtures/socket_peer.ts", import.meta.url).pathname;

/** An event as the test compares it: name, phase, lane and facts. */
function brief(event: TraceEvent): [string, string, number, Record<string, unknown>] {
  return [event.name, event.ph, event.tid, event.args ?? {}];
}

Deno.test("traced: a blocking accept and recv that wait, a would-block, a select that waits, close", async () => {
  const [near, far] = socketPair(); // made before tracing: its connect is not under test
  const nearFd = near.fileno();
  const farFd = far.fileno();
  let listenerFd = -1;
  let serverFd = -1;
  let peerPort = -1;
  let peer: Deno.ChildProcess | undefined;
  const events = await traced(() => {
    const listener = new Socket();
    listenerFd = listener.fileno();
    listener.bind(["127.0.0.1", 0]);
    listener.listen(1);
    // A peer process connects, waits 300 ms, sends "hello" and closes: this thread
    // waits in accept, then in recv.
    const port = String(listener.getSockName()[1]);
    peer = new Deno.Command(Deno.execPath(), {
      args: ["run", "-N", PEER_SCRIPT, "send-later", port, "300", "hello"],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const [server, address] = listener.accept();
    serverFd = server.fileno();
    peerPort = address[1];
    assert.equal(new TextDecoder().decode(server.recv(1024)), "hello");
    near.setBlocking(false);
    assert.throws(() => near.recv(16), WouldBlock);
    assert.deepEqual(select([near], [], [], 0.1), [[], [], []]);
    server.close();
    listener.close();
    near.close();
    far.close();
  }, "socket");
  await peer?.status;
  const main = MAIN_LANE;
  assert.deepEqual(events.map(brief), [
    ["open", "i", laneOfFd(listenerFd), { fd: listenerFd }],
    ["accept", "B", main, { fd: listenerFd, blocking: true }],
    ["accepted", "i", laneOfFd(serverFd), {
      fd: serverFd,
      peer: ["127.0.0.1", peerPort],
      listener: listenerFd,
    }],
    ["accept", "E", main, { fd: listenerFd }],
    ["recv", "B", main, { fd: serverFd, blocking: true }],
    ["recv", "E", main, { fd: serverFd, bytes: 5 }],
    ["recv", "i", laneOfFd(serverFd), { fd: serverFd, bytes: 5 }],
    // The would-block is counted, and the count written with the next flush: the one
    // before select waits.
    ["select", "B", main, { readers: [nearFd], writers: [], timeout: 0.1 }],
    ["wouldBlock", "C", main, { count: wouldBlocksOf(events) }],
    ["select", "E", main, { readable: [], writable: [] }],
    ["close", "i", laneOfFd(serverFd), { fd: serverFd }],
    ["close", "i", laneOfFd(listenerFd), { fd: listenerFd }],
    ["close", "i", laneOfFd(nearFd), { fd: nearFd }],
    ["close", "i", laneOfFd(farFd), { fd: farFd }],
  ]);
  const times = events.map((event) => event.ts);
  assert.deepEqual(times, [...times].sort((a, b) => a - b), "in time order");
  const recvBegin = events.find((event) => event.name === "recv" && event.ph === "B");
  const recvEnd = events.find((event) => event.name === "recv" && event.ph === "E");
  assert.ok(recvBegin && recvEnd);
  assert.ok(recvEnd.ts - recvBegin.ts >= 100_000, "the recv waited for the peer's bytes");
});

/** The count the one counter event says (the process's would-blocks so far). */
function wouldBlocksOf(events: TraceEvent[]): unknown {
  const counter = events.find((event) => event.name === "wouldBlock");
  assert.ok(counter, "a wouldBlock counter event");
  assert.ok(Number(counter.args?.count) >= 1);
  return counter.args?.count;
}

Deno.test("traced: a non-blocking connect seen connected, sends, an end of stream, sleep", async () => {
  const listener = new Socket();
  listener.bind(["127.0.0.1", 0]);
  listener.listen(1);
  const address = listener.getSockName();
  let clientFd = -1;
  let serverFd = -1;
  const events = await traced(() => {
    const client = new Socket();
    clientFd = client.fileno();
    client.setBlocking(false);
    assert.throws(() => client.connect(address), InProgress);
    select([], [client], [], 5);
    assert.equal(client.getPendingError(), null);
    client.setBlocking(true);
    const [server] = listener.accept();
    serverFd = server.fileno();
    client.sendAll(new TextEncoder().encode("abc"));
    client.close();
    assert.equal(server.recv(16).length, 3);
    assert.equal(server.recv(16).length, 0);
    sleep(0.01);
    server.close();
  }, "socket");
  listener.close();
  // The waits depend on the worker's timing; the facts on each lane do not.
  const onLanes = events.filter((event) => event.tid !== MAIN_LANE).map(brief);
  assert.deepEqual(onLanes.filter(([, , lane]) => lane === laneOfFd(clientFd)), [
    ["open", "i", laneOfFd(clientFd), { fd: clientFd }],
    ["connected", "i", laneOfFd(clientFd), { fd: clientFd, peer: address }],
    ["sent", "i", laneOfFd(clientFd), { fd: clientFd, bytes: 3 }],
    ["close", "i", laneOfFd(clientFd), { fd: clientFd }],
  ]);
  const serverLane = onLanes.filter(([, , lane]) => lane === laneOfFd(serverFd));
  assert.deepEqual(serverLane.slice(1), [
    ["recv", "i", laneOfFd(serverFd), { fd: serverFd, bytes: 3 }],
    ["recv", "i", laneOfFd(serverFd), { fd: serverFd, bytes: 0 }],
    ["close", "i", laneOfFd(serverFd), { fd: serverFd }],
  ]);
  assert.equal(serverLane[0][0], "accepted");
  const sleeps = events.filter((event) => event.name === "sleep").map(brief);
  assert.deepEqual(sleeps, [
    ["sleep", "B", MAIN_LANE, { seconds: 0.01, blocking: true }],
    ["sleep", "E", MAIN_LANE, {}],
  ]);
});

Deno.test("traced: a recv that times out ends its wait with the error", async () => {
  const [near, far] = socketPair();
  const fd = near.fileno();
  try {
    near.setTimeout(0.05);
    const events = await traced(() => {
      assert.throws(() => near.recv(16), SocketTimeout);
    }, "socket");
    assert.deepEqual(events.map(brief), [
      ["recv", "B", MAIN_LANE, { fd, blocking: true }],
      ["recv", "E", MAIN_LANE, { fd, error: "SocketTimeout: timed out" }],
    ]);
  } finally {
    near.close();
    far.close();
  }
});

Deno.test("not tracing: nothing is recorded", async () => {
  let written = "";
  startTracing((chunk) => written += chunk);
  stopTracing();
  written = "";
  const [a, b] = socketPair();
  a.sendAll(new Uint8Array([1]));
  b.recv(1);
  b.setBlocking(false);
  assert.throws(() => b.recv(1), WouldBlock);
  a.close();
  b.close();
  await Promise.resolve();
  assert.equal(written, "");
});
