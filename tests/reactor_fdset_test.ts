/**
 * The reactor's reader and writer machinery (IReactorFDSet and the dispatch of
 * `doRead`/`doWrite`), what the Part 4 clients rely on, one suite run against
 * each reactor (select and poll): the sets themselves, dispatch with real
 * sockets of lib/socket, what the return values and thrown errors of
 * `doRead`/`doWrite` do, descriptors whose `fileno()` turns -1,
 * descriptors removed by another descriptor's callback in the same turn, the
 * shutdown's disconnections, and a loop woken by a reader's bytes. Where the
 * other reactor tests go: see tests/README.md.
 *
 * Run: deno test -N -R --allow-run --allow-env --allow-sys tests/reactor_fdset_test.ts
 */

import assert from "node:assert/strict";
import type { ReactorBase } from "../lib/reactor/base.ts";
import { ConnectionDone, ConnectionFdescWentAway } from "../lib/reactor/error.ts";
import { CONNECTION_DONE, CONNECTION_LOST } from "../lib/reactor/main.ts";
import { selectAsync, type Socket } from "../lib/socket/mod.ts";
import { concat } from "./helpers/bytes.ts";
import { runAtMost, runFor } from "./helpers/deadline.ts";
import { drain, Probe } from "./helpers/probe.ts";
import { quietReactor, REACTORS } from "./helpers/reactors.ts";
import { Pairs, waitReadable } from "./helpers/socket_pairs.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What each test of this file starts with. */
interface Setting {
  reactor: ReactorBase;
  reports: string[];
  pairs: Pairs;
}

for (const [name, Reactor] of REACTORS) {
  /** Each test gets a quiet reactor and a supply of socket pairs, closed at its end. */
  const test = (title: string, fn: (setting: Setting) => void | Promise<void>) =>
    Deno.test(`${name} reactor, readers and writers: ${title}`, async () => {
      const pairs = new Pairs();
      try {
        await fn({ ...quietReactor(Reactor), pairs });
      } finally {
        pairs.close();
      }
    });

  // -- the sets ----------------------------------------------------------------

  test("add, remove, get and removeAll keep the sets, each descriptor once", ({ reactor, pairs }) => {
    const a = new Probe(pairs.open().near, "a");
    const b = new Probe(pairs.open().near, "b");
    const c = new Probe(pairs.open().near, "c");
    assert.deepEqual(reactor.getReaders(), []);
    assert.deepEqual(reactor.getWriters(), []);

    reactor.addReader(a);
    reactor.addReader(b);
    reactor.addReader(a); // again: no change
    reactor.addWriter(b); // b both reads and writes
    reactor.addWriter(c);
    assert.deepEqual(reactor.getReaders(), [a, b]);
    assert.deepEqual(reactor.getWriters(), [b, c]);

    reactor.removeReader(c); // not a reader: no change
    reactor.removeWriter(a); // not a writer: no change
    assert.deepEqual(reactor.getReaders(), [a, b]);
    assert.deepEqual(reactor.getWriters(), [b, c]);

    reactor.removeReader(b);
    assert.deepEqual(reactor.getReaders(), [a]);
    assert.deepEqual(reactor.getWriters(), [b, c], "still a writer");
    reactor.addReader(b);

    // The arrays given out are copies: changing them changes nothing.
    reactor.getReaders().length = 0;
    assert.equal(reactor.getReaders().length, 2);

    const removed = reactor.removeAll();
    assert.equal(removed.length, 3, "b is both a reader and a writer, but counted once");
    assert.deepEqual(new Set(removed), new Set([a, b, c]));
    assert.deepEqual(reactor.getReaders(), []);
    assert.deepEqual(reactor.getWriters(), []);
    assert.deepEqual(reactor.removeAll(), []);
    for (const probe of [a, b, c]) {
      assert.deepEqual(probe.lost, [], "removeAll does not call connectionLost");
      assert.equal(probe.reads + probe.writes, 0);
    }
  });

  test("removeAll from a callback: nothing removed is called again, and the loop goes on", async ({ reactor, pairs }) => {
    const pair = pairs.open();
    const probe = new Probe(pair.near, "probe");
    let removed: unknown[] = [];
    probe.onRead = () => {
      removed = reactor.removeAll();
    };
    reactor.addReader(probe);
    reactor.addWriter(probe);
    pair.far.sendAll(encoder.encode("x"));
    waitReadable([pair.near]);
    let ticked = false;
    reactor.callLater(0.1, () => {
      ticked = true;
      reactor.stop();
    });
    await runAtMost(reactor);
    assert.equal(ticked, true);
    assert.deepEqual(removed, [probe]);
    assert.equal(probe.reads, 1);
    assert.equal(probe.writes, 0, "removed by its own doRead before its doWrite");
    assert.deepEqual(probe.lost, []);
  });

  // -- doRead ----------------------------------------------------------------

  test("doRead is called when the socket has bytes, and reads them all", async ({ reactor, reports, pairs }) => {
    const pair = pairs.open();
    const probe = new Probe(pair.near, "reader");
    const received: Uint8Array[] = [];
    const message = "a poem, in three parts: ";
    let readersAtStop: unknown[] = [];
    probe.onRead = () => {
      drain(pair.near, received);
      const text = decoder.decode(concat(received));
      if (text === message.repeat(3)) {
        readersAtStop = reactor.getReaders();
        reactor.stop();
      }
    };
    reactor.addReader(probe);
    // Nothing to read yet: the reactor waits. The peer sends later, in pieces.
    for (const delay of [0.02, 0.05, 0.08]) {
      reactor.callLater(delay, () => pair.far.sendAll(encoder.encode(message)));
    }
    await runAtMost(reactor);
    assert.equal(decoder.decode(concat(received)), message.repeat(3));
    assert.ok(probe.reads >= 1 && probe.reads <= 3, `${probe.reads} reads`);
    assert.deepEqual(readersAtStop, [probe], "a doRead that returns nothing stays");
    assert.deepEqual(probe.lost, [CONNECTION_LOST], "until the shutdown disconnects it");
    assert.deepEqual(reactor.getReaders(), []);
    assert.deepEqual(reports, []);
  });

  test("the peer closing: doRead reads to the end, and CONNECTION_DONE ends the reader", async ({ reactor, reports, pairs }) => {
    const pair = pairs.open();
    const chunks: Uint8Array[] = [];
    const probe = new Probe(pair.near, "reader");
    probe.onRead = () => drain(pair.near, chunks); // CONNECTION_DONE at the end of the stream
    probe.onLost = () => reactor.stop();
    reactor.addReader(probe);
    reactor.callLater(0.01, () => pair.far.sendAll(encoder.encode("hello, ")));
    reactor.callLater(0.03, () => {
      pair.far.sendAll(encoder.encode("reactor"));
      pair.far.close();
    });
    await runAtMost(reactor);
    assert.equal(decoder.decode(concat(chunks)), "hello, reactor");
    assert.ok(probe.reads >= 2, `doRead called ${probe.reads} times`);
    assert.deepEqual(probe.lost, [CONNECTION_DONE]);
    assert.ok(probe.lost[0] instanceof ConnectionDone);
    assert.deepEqual(reactor.getReaders(), []);
    assert.deepEqual(reports, []);
  });

  test("a reader is called when bytes arrive, and not after removeReader", async ({ reactor, pairs }) => {
    const pair = pairs.open();
    const chunks: Uint8Array[] = [];
    const probe = new Probe(pair.near, "reader");
    probe.onRead = () => {
      drain(pair.near, chunks);
      reactor.removeReader(probe);
      // More bytes come: nobody is watching the socket any more.
      reactor.callLater(0.01, () => pair.far.sendAll(encoder.encode("unread")));
      reactor.callLater(0.1, () => reactor.stop());
    };
    reactor.addReader(probe);
    reactor.callLater(0.01, () => pair.far.sendAll(encoder.encode("read")));
    await runAtMost(reactor);
    assert.equal(probe.reads, 1);
    assert.equal(decoder.decode(concat(chunks)), "read");
    assert.deepEqual(probe.lost, [], "removeReader is not a loss, nor is the shutdown after it");
    pair.near.setBlocking(true);
    assert.equal(decoder.decode(pair.near.recv(100)), "unread", "the bytes wait in the socket");
  });

  test("doRead returning CONNECTION_DONE, CONNECTION_LOST, another error, or throwing: removed, connectionLost(that reason)", async ({ reactor, reports, pairs }) => {
    const thrown = new Error("I fall down.");
    const custom = new Error("a reason of my own");
    const cases = endings(thrown, ["custom", () => custom, custom]);
    const probes: Probe[] = [];
    const keeper = new Probe(pairs.open().near, "keeper"); // never ready: stays
    reactor.addReader(keeper);
    let readersAtStop: unknown[] = [];
    let keeperLostAtStop: Error[] = [];
    for (const [label, onRead] of cases) {
      const pair = pairs.open();
      const probe = new Probe(pair.near, label);
      probe.onRead = onRead;
      probe.onLost = () => {
        if (probes.every((each) => each.lost.length > 0)) {
          reactor.callLater(0.05, () => {
            readersAtStop = reactor.getReaders();
            keeperLostAtStop = [...keeper.lost];
            reactor.stop();
          });
        }
      };
      probes.push(probe);
      reactor.addReader(probe);
      reactor.addWriter(probe); // also a writer: it must go from both sets
      probe.onWrite = () => {};
      pair.far.sendAll(encoder.encode(label));
    }
    await runAtMost(reactor);
    for (const [index, [label, , reason]] of cases.entries()) {
      const probe = probes[index];
      assert.equal(probe.lost.length, 1, `${label}: connectionLost once`);
      assert.equal(probe.lost[0], reason, `${label}: the reason is that very object`);
      assert.equal(probe.reads, 1, `${label}: no doRead after it ended`);
      assert.ok(!reactor.getReaders().includes(probe), `${label} still a reader`);
      assert.ok(!reactor.getWriters().includes(probe), `${label} still a writer`);
    }
    assert.deepEqual(readersAtStop, [keeper]);
    assert.deepEqual(keeperLostAtStop, []);
    assert.deepEqual(keeper.lost, [CONNECTION_LOST], "disconnected by the shutdown");
    // Only the thrown error is reported, as unhandled, with the descriptor's prefix.
    assert.equal(reports.length, 1, reports.join("\n---\n"));
    assert.match(reports[0], /^\[thrower\] Unhandled Error\n/);
    assert.match(reports[0], /I fall down\./);
  });

  test("a reader and writer at once whose doRead ends it: no doWrite, one connectionLost", async ({ reactor, pairs }) => {
    const pair = pairs.open();
    const probe = new Probe(pair.near, "both");
    probe.onRead = () => CONNECTION_DONE;
    probe.onLost = () => reactor.callLater(0.05, () => reactor.stop());
    reactor.addReader(probe);
    reactor.addWriter(probe);
    pair.far.sendAll(encoder.encode("x"));
    waitReadable([pair.near]); // readable and writable in the same turn
    await runAtMost(reactor);
    assert.equal(probe.reads, 1);
    assert.equal(probe.writes, 0);
    assert.deepEqual(probe.lost, [CONNECTION_DONE]);
    assert.deepEqual(reactor.getWriters(), []);
  });

  // -- fileno() -1 -------------------------------------------------------------

  const assertLostUnread = (probe: Probe) => {
    assert.equal(probe.reads + probe.writes, 0, `${probe.name}: called after it went bad`);
    assert.equal(probe.lost.length, 1, `${probe.name}: connectionLost ${probe.lost.length} times`);
    assert.ok(
      probe.lost[0] instanceof ConnectionFdescWentAway,
      `${probe.name}: lost with ${probe.lost[0]}`,
    );
  };

  test("a reader whose socket gets closed while watched is lost, never read", async ({ reactor, pairs }) => {
    const pair = pairs.open();
    const probe = new Probe(pair.near, "closed");
    reactor.addReader(probe);
    // Scheduled once running, so the reactor has waited on the socket at least once.
    reactor.callWhenRunning(() =>
      reactor.callLater(0.03, () => {
        pair.far.sendAll(encoder.encode("too late"));
        pair.near.close(); // fileno() is -1 from now on
      })
    );
    await runFor(reactor, 0.3);
    assertLostUnread(probe);
    assert.deepEqual(reactor.getReaders(), []);
  });

  test("a reader whose descriptor number passes to a new socket with bytes is lost, never read", async ({ reactor, pairs }) => {
    const pair = pairs.open();
    const number = pair.near.fileno();
    const victim = new Probe(pair.near, "victim");
    victim.onLost = () => reactor.stop();
    reactor.addReader(victim);
    let reused = -1;
    reactor.callWhenRunning(() =>
      reactor.callLater(0.02, () => {
        pair.near.close();
        const next = pairs.open(); // a kernel hands out the lowest free number: the same
        reused = next.near.fileno();
        next.far.sendAll(encoder.encode("for the new socket, not the victim"));
      })
    );
    await runAtMost(reactor);
    assert.equal(reused, number, "the test needs the number to be reused");
    assertLostUnread(victim);
  });

  test("a ready reader whose fileno() answers -1 is lost, never read", async ({ reactor, pairs }) => {
    const pair = pairs.open();
    const probe = new Probe(pair.near, "forgetful");
    reactor.addReader(probe);
    reactor.callLater(0.03, () => {
      pair.far.sendAll(encoder.encode("x"));
      waitReadable([pair.near]);
      probe.forgetful = true; // the socket is open and readable, but fileno() says -1
    });
    await runFor(reactor, 0.3);
    assertLostUnread(probe);
    assert.deepEqual(reactor.getReaders(), []);
  });

  test("a reader added with fileno() -1 is lost at the next turn", async ({ reactor, pairs }) => {
    const socket = pairs.open().near;
    socket.close();
    const probe = new Probe(socket, "dead on arrival");
    reactor.addReader(probe);
    await runFor(reactor, 0.2);
    assertLostUnread(probe);
    assert.deepEqual(reactor.getReaders(), []);
  });

  test("writers whose fileno() turns -1 (closed, or answering -1) are lost, never called", async ({ reactor, pairs }) => {
    const closed = new Probe(pairs.open().near, "closed");
    const forgetful = new Probe(pairs.open().near, "forgetful");
    const deadOnArrival = new Probe(pairs.open().near, "dead on arrival");
    deadOnArrival.socket.close();
    reactor.addWriter(deadOnArrival);
    // The other two are writable from the start; they go bad before the loop starts.
    reactor.addWriter(closed);
    reactor.addWriter(forgetful);
    closed.socket.close();
    forgetful.forgetful = true;
    await runFor(reactor, 0.2);
    for (const probe of [closed, forgetful, deadOnArrival]) assertLostUnread(probe);
    assert.deepEqual(reactor.getWriters(), []);
  });

  test("stop() called from the connectionLost of a descriptor gone bad ends the loop at once", async ({ reactor, pairs }) => {
    // The reactor finds such descriptors before it waits; what their connectionLost
    // asks for (a stop, here) must not wait for the wait to time out.
    const socket = pairs.open().near;
    socket.close();
    const probe = new Probe(socket, "dead on arrival");
    probe.onLost = () => reactor.stop();
    reactor.addReader(probe);
    const started = performance.now();
    const fallback = 1.5;
    await runAtMost(reactor, fallback).catch(() => {});
    const seconds = (performance.now() - started) / 1000;
    assertLostUnread(probe);
    assert.ok(
      seconds < fallback / 3,
      `the loop ended ${seconds.toFixed(3)} s after run(), with the stop() made at once ` +
        `(the next timer was due at ${fallback} s)`,
    );
  });

  test("a reader whose fileno() throws: reported with its prefix, removed, told why", async ({ reactor, reports, pairs }) => {
    const broken = new Error("fileno is broken");
    const fromTheStart = new BrokenProbe(pairs.open().near, "from the start", broken);
    fromTheStart.broken = true;
    const lateOne = pairs.open();
    const later = new BrokenProbe(lateOne.near, "later", broken);
    reactor.addReader(fromTheStart);
    reactor.addReader(later);
    reactor.callLater(0.03, () => {
      later.broken = true;
      lateOne.far.sendAll(encoder.encode("x")); // ready, so even poll asks its fileno()
    });
    await runFor(reactor, 0.3);
    for (const probe of [fromTheStart, later]) {
      assert.equal(probe.reads, 0, `${probe.name}: read`);
      assert.deepEqual(probe.lost, [broken], `${probe.name}: lost with what fileno() threw`);
    }
    assert.deepEqual(reactor.getReaders(), []);
    assert.equal(reports.length, 2, reports.join("\n---\n"));
    for (const name of ["from the start", "later"]) {
      assert.ok(
        reports.some((report) =>
          report.startsWith(`[${name}] Unhandled Error\nError: fileno is broken`)
        ),
        `${name} not reported:\n${reports.join("\n---\n")}`,
      );
    }
  });

  test("doRead throwing a value that is no Error, nor even printable: reported, lost, the loop goes on", async ({ reactor, reports, pairs }) => {
    const pair = pairs.open();
    const probe = new Probe(pair.near, "odd");
    const thrown = Object.create(null);
    probe.onRead = () => {
      throw thrown;
    };
    reactor.addReader(probe);
    pair.far.sendAll(encoder.encode("x"));
    let ticked = false;
    reactor.callLater(0.1, () => {
      ticked = true;
      reactor.stop();
    });
    await runAtMost(reactor);
    assert.equal(ticked, true, "the loop went on");
    assert.equal(probe.reads, 1);
    assert.equal(probe.lost.length, 1);
    assert.ok(probe.lost[0] instanceof Error);
    assert.equal(probe.lost[0].cause, thrown, "the thrown value is the reason's cause");
    assert.equal(reports.length, 1, reports.join("\n---\n"));
    assert.equal(
      reports[0],
      "[odd] Unhandled Error\nUncaught value: [Object: null prototype] {}",
    );
  });

  // -- shutdown --------------------------------------------------------------------

  test("shutdown: every descriptor still registered gets connectionLost(CONNECTION_LOST), once", async ({ reactor, reports, pairs }) => {
    const reader = new Probe(pairs.open().near, "reader");
    const writer = new Probe(pairs.open().near, "writer");
    const both = new Probe(pairs.open().near, "both");
    const thrower = new Probe(pairs.open().near, "thrower");
    const order: string[] = [];
    for (const probe of [reader, writer, both, thrower]) {
      probe.onLost = (reason) => {
        order.push(`${probe.name} lost, running=${reactor.running}`);
        assert.equal(reason, CONNECTION_LOST);
        if (probe === thrower) throw new Error("cannot close");
      };
    }
    reactor.addReader(reader);
    reactor.addReader(thrower);
    reactor.addWriter(writer);
    reactor.addReader(both);
    reactor.addWriter(both);
    writer.onWrite = both.onWrite = () => {}; // always writable: called every turn
    let watchedBefore: unknown[] = [];
    reactor.addSystemEventTrigger("before", "shutdown", () => {
      watchedBefore = [...reactor.getReaders(), ...reactor.getWriters()];
    });
    reactor.addSystemEventTrigger("after", "shutdown", () => order.push("after shutdown"));
    reactor.callLater(0.05, () => reactor.stop());
    await runAtMost(reactor);
    assert.equal(watchedBefore.length, 5, "still registered in the before phase");
    assert.equal(order.pop(), "after shutdown", "all told in the during phase");
    assert.deepEqual(order.sort(), [
      "both lost, running=false",
      "reader lost, running=false",
      "thrower lost, running=false",
      "writer lost, running=false",
    ]);
    for (const probe of [reader, writer, both, thrower]) {
      assert.deepEqual(probe.lost, [CONNECTION_LOST], probe.name);
    }
    assert.deepEqual(reactor.getReaders(), []);
    assert.deepEqual(reactor.getWriters(), []);
    assert.equal(reports.length, 1, reports.join("\n---\n"));
    assert.match(reports[0], /^\[thrower\] Unhandled Error\nError: cannot close/);
  });

  test("crash(): the descriptors stay registered, and nobody is told", async ({ reactor, pairs }) => {
    const reader = new Probe(pairs.open().near, "reader");
    reactor.addReader(reader);
    reactor.callLater(0.02, () => reactor.crash());
    await runAtMost(reactor);
    assert.deepEqual(reactor.getReaders(), [reader]);
    assert.deepEqual(reader.lost, []);
  });

  // -- removed during a turn -----------------------------------------------------

  test("a reader removed by another reader's doRead in the same turn is not called", async ({ reactor, pairs }) => {
    const [one, two] = [pairs.open(), pairs.open()];
    const probes = [new Probe(one.near, "one"), new Probe(two.near, "two")];
    for (const [index, probe] of probes.entries()) {
      const other = probes[1 - index];
      probe.onRead = () => {
        reactor.removeReader(other); // whoever is called first removes the other
        reactor.removeReader(probe);
        reactor.stop();
      };
      reactor.addReader(probe);
    }
    one.far.sendAll(encoder.encode("1"));
    two.far.sendAll(encoder.encode("2"));
    waitReadable([one.near, two.near]); // both ready for the same turn
    await runAtMost(reactor);
    assert.equal(probes[0].reads + probes[1].reads, 1, "exactly one doRead");
    assert.deepEqual([...probes[0].lost, ...probes[1].lost], [], "removeReader is no loss");
  });

  test("a reader removed by another's connectionLost in the same turn is not called", async ({ reactor, pairs }) => {
    const ready = [pairs.open(), pairs.open(), pairs.open()];
    const probes = ready.map((pair, index) => new Probe(pair.near, `p${index}`));
    for (const probe of probes) {
      probe.onRead = () => CONNECTION_DONE;
      // The first to end takes the others with it, as a client giving up on all its
      // connections would: they get no doRead in this turn (nor later).
      probe.onLost = () => {
        for (const other of probes) reactor.removeReader(other);
        reactor.callLater(0.05, () => reactor.stop());
      };
      reactor.addReader(probe);
    }
    for (const pair of ready) pair.far.sendAll(encoder.encode("x"));
    waitReadable(ready.map((pair) => pair.near));
    await runAtMost(reactor);
    const reads = probes.map((probe) => probe.reads);
    assert.equal(reads.reduce((a, b) => a + b), 1, `reads: ${reads}`);
    for (const probe of probes) {
      assert.deepEqual(probe.lost, probe.reads === 1 ? [CONNECTION_DONE] : [], probe.name);
    }
  });

  test("a reader and a writer, ready in the same turn, each removing the other: one call", async ({ reactor, pairs }) => {
    const readerPair = pairs.open();
    const reader = new Probe(readerPair.near, "reader");
    const writer = new Probe(pairs.open().near, "writer");
    const removeBoth = () => {
      reactor.removeWriter(writer);
      reactor.removeReader(reader);
      reactor.callLater(0.05, () => reactor.stop());
    };
    reader.onRead = removeBoth;
    writer.onWrite = removeBoth;
    readerPair.far.sendAll(encoder.encode("x"));
    waitReadable([readerPair.near]); // readable now; a connected socket is always writable
    reactor.addReader(reader);
    reactor.addWriter(writer);
    await runAtMost(reactor);
    assert.equal(reader.reads + writer.writes, 1, "exactly one call");
    if (name === "select") assert.equal(reader.reads, 1, "select dispatches readers first");
  });

  // -- doWrite -------------------------------------------------------------------

  test("a connected socket is writable: doWrite sends, the peer gets the exact bytes", async ({ reactor, reports, pairs }) => {
    const pair = pairs.open();
    const writer = new Probe(pair.near, "writer");
    const poem = new Uint8Array(300_000).map((_, index) => (index * 31 + 7) & 0xff);
    let sent = 0;
    writer.onWrite = () => {
      sent += pair.near.send(poem.subarray(sent)); // as much as fits now
      if (sent === poem.length) {
        reactor.removeWriter(writer);
        reactor.stop();
      }
    };
    reactor.addWriter(writer);
    // The peer reads as the writer writes (in another thread: the socket layer's
    // worker moves the bytes while this thread runs the reactor).
    const received = collectAsync(pair.far, poem.length);
    await runAtMost(reactor);
    assert.equal(sent, poem.length);
    assert.ok(writer.writes >= 1);
    assert.deepEqual(await received, poem);
    assert.deepEqual(writer.lost, []);
    assert.deepEqual(reports, []);
  });

  test("doWrite is called each turn while writable, until it returns a reason", async ({ reactor, pairs }) => {
    const pair = pairs.open();
    const probe = new Probe(pair.near, "writer");
    probe.onWrite = () => {
      pair.near.send(encoder.encode("ping"));
      if (probe.writes === 3) return CONNECTION_DONE;
    };
    probe.onLost = () => reactor.stop();
    reactor.addWriter(probe);
    assert.deepEqual(reactor.getWriters(), [probe]);
    await runAtMost(reactor);
    assert.equal(probe.writes, 3);
    assert.deepEqual(probe.lost, [CONNECTION_DONE]);
    const received: string[] = [];
    while (received.join("").length < 12) received.push(decoder.decode(pair.far.recv(100)));
    assert.equal(received.join(""), "pingpingping");
  });

  test("a writer is called while the socket can take bytes, until it is full", async ({ reactor, pairs }) => {
    const pair = pairs.open();
    const probe = new Probe(pair.near, "writer");
    let sent = 0;
    let refused = false;
    const block = new Uint8Array(64 * 1024);
    probe.onWrite = () => {
      try {
        sent += pair.near.send(block);
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
  });

  test("doWrite returning CONNECTION_DONE, CONNECTION_LOST, or throwing: removed, connectionLost(that reason)", async ({ reactor, reports, pairs }) => {
    const thrown = new TypeError("cannot write that");
    const cases = endings(thrown);
    const probes: Probe[] = [];
    for (const [label, onWrite] of cases) {
      const probe = new Probe(pairs.open().near, label);
      probe.onWrite = onWrite;
      probe.onLost = () => {
        if (probes.every((each) => each.lost.length > 0)) {
          reactor.callLater(0.05, () => reactor.stop());
        }
      };
      probes.push(probe);
      reactor.addReader(probe); // never readable: its peer sends nothing
      reactor.addWriter(probe);
    }
    await runAtMost(reactor);
    for (const [index, [label, , reason]] of cases.entries()) {
      const probe = probes[index];
      assert.deepEqual(probe.lost.length, 1, `${label}: connectionLost once`);
      assert.equal(probe.lost[0], reason, `${label}: the reason is that very object`);
      assert.equal(probe.writes, 1, `${label}: no doWrite after it ended`);
      assert.equal(probe.reads, 0);
      assert.ok(!reactor.getWriters().includes(probe), `${label} still a writer`);
      assert.ok(!reactor.getReaders().includes(probe), `${label} still a reader`);
    }
    assert.equal(reports.length, 1, reports.join("\n---\n"));
    assert.match(reports[0], /^\[thrower\] Unhandled Error\n/);
    assert.match(reports[0], /TypeError: cannot write that/);
  });

  test("a writer removed by another writer's doWrite in the same turn is not called", async ({ reactor, pairs }) => {
    const probes = [new Probe(pairs.open().near, "one"), new Probe(pairs.open().near, "two")];
    for (const [index, probe] of probes.entries()) {
      const other = probes[1 - index];
      probe.onWrite = () => {
        reactor.removeWriter(other);
        reactor.removeWriter(probe);
        reactor.callLater(0.05, () => reactor.stop());
      };
      reactor.addWriter(probe); // both writable from the start: ready in the same turn
    }
    await runAtMost(reactor);
    assert.equal(probes[0].writes + probes[1].writes, 1, "exactly one doWrite");
    assert.deepEqual([...probes[0].lost, ...probes[1].lost], []);
  });

  // -- waking up -----------------------------------------------------------------

  test("a reader added from outside the loop is watched at once", async ({ reactor, pairs }) => {
    const pair = pairs.open();
    const chunks: Uint8Array[] = [];
    const probe = new Probe(pair.near, "reader");
    probe.onRead = () => {
      drain(pair.near, chunks);
      reactor.stop();
    };
    pair.far.sendAll(encoder.encode("waiting"));
    setTimeout(() => reactor.addReader(probe), 30);
    const start = performance.now();
    await runAtMost(reactor, 10); // the loop sleeps towards this stop: only a wake-up is quicker
    assert.ok(performance.now() - start < 5000, "woken when the reader was added");
    assert.equal(decoder.decode(concat(chunks)), "waiting");
  });

  test("an idle loop with a reader wakes when its bytes arrive", async ({ reactor, pairs }) => {
    const pair = pairs.open();
    const chunks: Uint8Array[] = [];
    const probe = new Probe(pair.near, "reader");
    probe.onRead = () => {
      drain(pair.near, chunks);
      reactor.stop();
    };
    reactor.addReader(probe);
    // Sent by another program's worth of code: a timer outside the reactor.
    setTimeout(() => pair.far.sendAll(encoder.encode("knock knock")), 30);
    const start = performance.now();
    await runAtMost(reactor, 10);
    assert.ok(performance.now() - start < 5000);
    assert.equal(decoder.decode(concat(chunks)), "knock knock");
  });
}

/**
 * One way a `doRead` or `doWrite` ends its descriptor: a label, the call, and the
 * reason `connectionLost` gets.
 */
type Ending = [label: string, call: () => Error | void, reason: Error];

/**
 * The endings `doRead` and `doWrite` are both tried with, in order: returning
 * CONNECTION_DONE, returning CONNECTION_LOST, `more`, throwing `thrown`.
 */
function endings(thrown: Error, ...more: Ending[]): Ending[] {
  return [
    ["done", () => CONNECTION_DONE, CONNECTION_DONE],
    ["lost", () => CONNECTION_LOST, CONNECTION_LOST],
    ...more,
    ["thrower", () => {
      throw thrown;
    }, thrown],
  ];
}

/** A probe whose `fileno()` throws `error` while `broken` is true. */
class BrokenProbe extends Probe {
  broken = false;

  constructor(socket: Socket, name: string, readonly error: Error) {
    super(socket, name);
  }

  override fileno(): number {
    if (this.broken) throw this.error;
    return super.fileno();
  }
}

/** Reads `count` bytes from a socket with the layer's async recv, without blocking this thread. */
async function collectAsync(socket: Socket, count: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let got = 0;
  while (got < count) {
    await selectAsync([socket], [], []); // readable: the recv below does not block
    const bytes = socket.recv(65536);
    if (bytes.length === 0) break;
    chunks.push(bytes);
    got += bytes.length;
  }
  return concat(chunks);
}
