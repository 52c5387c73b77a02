/**
 * Readers and writers, on both reactors, with descriptors whose `fileno()`
 * is a real socket of lib/socket: dispatch to doRead/doWrite, the end of a
 * descriptor (returned reason, thrown error, fileno -1), removal during a
 * turn, the FD-set methods, and waking up for a reader added from outside.
 */

import assert from "node:assert/strict";
import { Socket } from "../lib/socket/mod.ts";
import type { ReactorBase } from "../lib/reactor/base.ts";
import { ConnectionDone, ConnectionFdescWentAway } from "../lib/reactor/error.ts";
import { CONNECTION_DONE, CONNECTION_LOST } from "../lib/reactor/main.ts";
import { PollReactor } from "../lib/reactor/poll.ts";
import { SelectReactor } from "../lib/reactor/select.ts";
import { drain, Probe } from "./helpers/probe.ts";
import { runAtMost } from "./helpers/deadline.ts";

const REACTORS: Array<[string, new () => ReactorBase]> = [
  ["select", SelectReactor],
  ["poll", PollReactor],
];

/** Two connected sockets, the listener already closed. */
function socketPair(): [Socket, Socket] {
  const listener = new Socket();
  listener.bind(["127.0.0.1", 0]);
  listener.listen();
  const client = new Socket();
  client.connect(listener.getSockName());
  const [server] = listener.accept();
  listener.close();
  return [client, server];
}

function closeAll(...sockets: Socket[]): void {
  for (const socket of sockets) if (socket.fileno() !== -1) socket.close();
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

for (const [name, Reactor] of REACTORS) {
  const test = (title: string, fn: () => Promise<void>) =>
    Deno.test(`${name} reactor: ${title}`, fn);

  test("doRead is called when bytes arrive; CONNECTION_DONE ends the reader", async () => {
    const reactor = new Reactor();
    const [client, server] = socketPair();
    client.setBlocking(false);
    const chunks: Uint8Array[] = [];
    const probe = new Probe(client);
    probe.onRead = () => drain(client, chunks);
    probe.onLost = () => {
      client.close();
      if (probe.lost.length === 1) reactor.stop();
    };
    reactor.addReader(probe);
    reactor.addReader(probe); // twice is the same as once
    assert.deepEqual(reactor.getReaders(), [probe]);
    reactor.callLater(0.01, () => server.sendAll(encoder.encode("hello, ")));
    reactor.callLater(0.03, () => {
      server.sendAll(encoder.encode("reactor"));
      server.close();
    });
    await runAtMost(reactor);
    assert.equal(
      decoder.decode(new Uint8Array(chunks.flatMap((chunk) => [...chunk]))),
      "hello, reactor",
    );
    assert.ok(probe.reads >= 2, `doRead called ${probe.reads} times`);
    assert.deepEqual(probe.lost, [CONNECTION_DONE]);
    assert.ok(probe.lost[0] instanceof ConnectionDone);
    assert.deepEqual(reactor.getReaders(), []);
    closeAll(client, server);
  });

  test("doRead throwing: reported with the log prefix, removed, connectionLost(error)", async () => {
    const reactor = new Reactor();
    const reports: string[] = [];
    reactor.writeErrorReport = (report) => reports.push(report);
    const [client, server] = socketPair();
    const probe = new Probe(client, "PoetrySocket");
    probe.onRead = () => {
      throw new Error("cannot read");
    };
    reactor.addReader(probe);
    reactor.addWriter(probe);
    server.sendAll(encoder.encode("x"));
    reactor.callLater(0.05, () => reactor.stop());
    await runAtMost(reactor);
    assert.equal(probe.reads, 1);
    assert.equal(probe.lost.length, 1);
    assert.match(probe.lost[0].message, /cannot read/);
    assert.deepEqual(reactor.getReaders(), []);
    assert.deepEqual(reactor.getWriters(), [], "removed as a writer too");
    assert.equal(reports.length, 1);
    assert.match(reports[0], /^\[PoetrySocket\] Unhandled Error\nError: cannot read\n\s+at /);
    closeAll(client, server);
  });

  test("doWrite is called while writable; returning a reason ends the writer", async () => {
    const reactor = new Reactor();
    const [client, server] = socketPair();
    client.setBlocking(false);
    const probe = new Probe(client);
    probe.onWrite = () => {
      client.send(encoder.encode("ping"));
      if (probe.writes === 3) return CONNECTION_DONE;
    };
    probe.onLost = () => reactor.stop();
    reactor.addWriter(probe);
    assert.deepEqual(reactor.getWriters(), [probe]);
    await runAtMost(reactor);
    assert.equal(probe.writes, 3);
    assert.deepEqual(probe.lost, [CONNECTION_DONE]);
    server.setBlocking(true);
    const received: string[] = [];
    while (received.join("").length < 12) received.push(decoder.decode(server.recv(100)));
    assert.equal(received.join(""), "pingpingping");
    closeAll(client, server);
  });

  test("a descriptor whose socket was closed (fileno -1) is lost", async () => {
    const reactor = new Reactor();
    const [client, server] = socketPair();
    const probe = new Probe(client);
    probe.onLost = () => reactor.stop();
    reactor.addReader(probe);
    reactor.callLater(0.01, () => client.close()); // closed without removeReader
    const start = performance.now();
    await runAtMost(reactor, 5);
    assert.ok(performance.now() - start < 2500, "noticed at once");
    assert.equal(probe.reads, 0);
    assert.equal(probe.lost.length, 1);
    assert.ok(probe.lost[0] instanceof ConnectionFdescWentAway, String(probe.lost[0]));
    assert.deepEqual(reactor.getReaders(), []);
    closeAll(client, server);
  });

  test("a descriptor added while already closed is lost at the next turn", async () => {
    const reactor = new Reactor();
    const [client, server] = socketPair();
    client.close();
    const probe = new Probe(client);
    probe.onLost = () => reactor.stop();
    reactor.callWhenRunning(() => reactor.addReader(probe));
    await runAtMost(reactor, 5);
    assert.equal(probe.lost.length, 1);
    assert.ok(probe.lost[0] instanceof ConnectionFdescWentAway);
    closeAll(server);
  });

  test("a reader removed by an earlier callback of the same turn is not called", async () => {
    const reactor = new Reactor();
    const pairs = [socketPair(), socketPair()];
    const probes = pairs.map(([client], index) => new Probe(client, `probe ${index}`));
    const calls: string[] = [];
    for (const [index, probe] of probes.entries()) {
      probe.onRead = () => {
        calls.push(probe.name);
        reactor.removeReader(probes[1 - index]); // whoever goes first removes the other
        reactor.removeReader(probe);
        reactor.callLater(0.02, () => reactor.stop());
      };
      reactor.addReader(probe);
    }
    // Both readable before the loop's first wait, so both are ready in the same turn.
    for (const [, server] of pairs) server.sendAll(encoder.encode("x"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await runAtMost(reactor);
    assert.equal(calls.length, 1, `called: ${calls}`);
    for (const [client, server] of pairs) closeAll(client, server);
  });

  test("a reader is called when bytes arrive, and not after removeReader", async () => {
    const reactor = new Reactor();
    const [client, server] = socketPair();
    client.setBlocking(false);
    const chunks: Uint8Array[] = [];
    const probe = new Probe(client);
    probe.onRead = () => {
      drain(client, chunks);
      reactor.removeReader(probe);
      // More bytes come: nobody is watching the socket any more.
      reactor.callLater(0.01, () => server.sendAll(encoder.encode("unread")));
      reactor.callLater(0.1, () => reactor.stop());
    };
    reactor.addReader(probe);
    reactor.callLater(0.01, () => server.sendAll(encoder.encode("read")));
    await runAtMost(reactor);
    assert.equal(probe.reads, 1);
    assert.equal(decoder.decode(chunks[0]), "read");
    assert.deepEqual(probe.lost, [], "removeReader is not a loss, nor is the shutdown after it");
    client.setBlocking(true);
    assert.equal(decoder.decode(client.recv(100)), "unread", "the bytes wait in the socket");
    closeAll(client, server);
  });

  test("a writer is called while the socket can take bytes, until it is full", async () => {
    const reactor = new Reactor();
    const [client, server] = socketPair();
    client.setBlocking(false);
    const probe = new Probe(client);
    let sent = 0;
    let refused = false;
    const block = new Uint8Array(64 * 1024);
    probe.onWrite = () => {
      try {
        sent += client.send(block);
      } catch (error) {
        refused = true; // would block: the writer was called while the socket was full
        throw error;
      }
    };
    reactor.addWriter(probe);
    // Nobody reads at the other end: the buffers fill, and the writer must stop being called.
    reactor.callLater(0.3, () => reactor.stop());
    await runAtMost(reactor);
    assert.equal(refused, false, "doWrite called on a socket that could not take bytes");
    assert.ok(sent > 0, "the writer was called");
    assert.ok(sent < 256 * 1024 * 1024, `${sent} bytes taken: the buffers are bounded`);
    assert.deepEqual(probe.lost, [CONNECTION_LOST], "still registered at shutdown");
    closeAll(client, server);
  });

  test("removeReader, removeWriter and removeAll", async () => {
    const reactor = new Reactor();
    const [client, server] = socketPair();
    const reader = new Probe(client, "reader");
    const both = new Probe(server, "both");
    reactor.addReader(reader);
    reactor.addReader(both);
    reactor.addWriter(both);
    reactor.removeReader(new Probe(client)); // never added: nothing happens
    assert.deepEqual(reactor.getReaders(), [reader, both]);
    assert.deepEqual(reactor.getWriters(), [both]);
    reactor.removeWriter(both);
    assert.deepEqual(reactor.getWriters(), []);
    reactor.addWriter(both);
    const removed = reactor.removeAll();
    assert.deepEqual(new Set(removed), new Set([reader, both]));
    assert.equal(removed.length, 2);
    assert.deepEqual(reactor.getReaders(), []);
    assert.deepEqual(reactor.getWriters(), []);
    assert.deepEqual(both.lost, [], "removeAll does not call connectionLost");
    // Nothing is watched any more: bytes arriving call nobody.
    client.sendAll(encoder.encode("x"));
    reactor.callLater(0.03, () => reactor.stop());
    await runAtMost(reactor);
    assert.equal(reader.reads + both.reads + both.writes, 0);
    assert.deepEqual([...reader.lost, ...both.lost], [], "nothing left to disconnect at shutdown");
    closeAll(client, server);
  });

  test("a reader added from outside the loop is watched at once", async () => {
    const reactor = new Reactor();
    const [client, server] = socketPair();
    client.setBlocking(false);
    const chunks: Uint8Array[] = [];
    const probe = new Probe(client);
    probe.onRead = () => {
      drain(client, chunks);
      reactor.stop();
    };
    server.sendAll(encoder.encode("waiting"));
    setTimeout(() => reactor.addReader(probe), 30);
    const start = performance.now();
    await runAtMost(reactor, 10); // the loop sleeps towards this stop: only a wake-up is quicker
    assert.ok(performance.now() - start < 5000, "woken when the reader was added");
    assert.equal(decoder.decode(chunks[0]), "waiting");
    closeAll(client, server);
  });

  test("an idle loop with a reader wakes when its bytes arrive", async () => {
    const reactor = new Reactor();
    const [client, server] = socketPair();
    client.setBlocking(false);
    const chunks: Uint8Array[] = [];
    const probe = new Probe(client);
    probe.onRead = () => {
      drain(client, chunks);
      reactor.stop();
    };
    reactor.addReader(probe);
    // Sent by another program's worth of code: a timer outside the reactor.
    setTimeout(() => server.sendAll(encoder.encode("knock knock")), 30);
    const start = performance.now();
    await runAtMost(reactor, 10);
    assert.ok(performance.now() - start < 5000);
    assert.equal(decoder.decode(chunks[0]), "knock knock");
    closeAll(client, server);
  });
}
