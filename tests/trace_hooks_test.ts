/**
 * The reactor's trace hooks, recorded in this process: what a run of the select and
 * poll reactors writes (run, each wait with what was watched and ready, each callback
 * with its object and outcome, delayed calls from schedule to fire, LoopingCall ticks,
 * triggers, unhandled errors, what was pending at the end), and nothing at all when
 * tracing is off.
 *
 * @module
 */

import assert from "node:assert/strict";
import { socketPair } from "../lib/socket/mod.ts";
import { SelectReactor } from "../lib/reactor/select.ts";
import { PollReactor } from "../lib/reactor/poll.ts";
import type { ReactorBase } from "../lib/reactor/base.ts";
import { LoopingCall } from "../lib/reactor/task.ts";
import { CONNECTION_DONE } from "../lib/reactor/main.ts";
import { startTracing, stopTracing } from "../lib/trace/mod.ts";
import { Probe } from "./helpers/probe.ts";
import { traced } from "./helpers/traced.ts";
import { runAtMost } from "./helpers/deadline.ts";

class Countdown {
  constructor(readonly reactor: ReactorBase, public left: number) {}
  count(): void {
    if (--this.left === 0) return;
    this.reactor.callLater(0.01, () => this.count());
  }
}

for (const Reactor of [SelectReactor, PollReactor]) {
  Deno.test(`${Reactor.name}: a traced run records waits, callbacks and delayed calls`, async () => {
    const [client, server] = socketPair();
    client.setBlocking(false);
    const fd = client.fileno();
    const probe = new Probe(client, "Reader");
    const events = await traced(async () => {
      const reactor = new Reactor();
      probe.onRead = () => {
        client.recv(100);
        return CONNECTION_DONE;
      };
      probe.onLost = () =>
        reactor.callLater(0.01, function finish() {
          reactor.stop();
        });
      reactor.addReader(probe);
      reactor.callWhenRunning(function start() {
        new Countdown(reactor, 3).count();
        reactor.callLater(0.005, () => server.sendAll(new Uint8Array([1, 2, 3])));
        const never = reactor.callLater(5, () => {});
        never.reset(6);
        never.cancel();
        reactor.callLater(0, () => {
          throw new Error("on purpose");
        });
      });
      reactor.writeErrorReport = () => {};
      reactor.callLater(30, function forgotten() {});
      await runAtMost(reactor);
    });
    client.close();
    server.close();

    const names = events.map((event) => `${event.cat}:${event.name}`);
    const run = events.find((event) => event.name === "run");
    assert.equal(run?.args?.reactor, Reactor.name);
    const start = events.find((event) => event.name === "start");
    assert.deepEqual(start?.args?.kind, "whenRunning");

    const firstWait = events.find((event) => event.name === "wait" && event.ph === "B");
    assert.deepEqual(firstWait?.args?.readers, [fd]);
    const ready = events.find((event) =>
      event.name === "wait" && event.ph === "E" &&
      (event.args?.readable as number[]).includes(fd)
    );
    assert.ok(ready, "a wait that found the reader ready");

    const doRead = events.find((event) =>
      event.cat === "callback" && event.args?.kind === "doRead"
    );
    assert.equal(doRead?.name, "doRead of Probe");
    assert.equal(doRead?.args?.outcome, "returned");
    assert.equal(doRead?.args?.detail, "ConnectionDone: Connection was closed cleanly.");
    const lost = events.find((event) => event.args?.kind === "connectionLost");
    assert.equal(lost?.name, "connectionLost of Probe");

    const schedules = events.filter((event) => event.name === "schedule");
    const labels = schedules.map((event) => event.args?.label);
    assert.ok(labels.includes("Countdown.count"), labels.join());
    assert.ok(labels.includes("finish") && labels.includes("forgotten"));
    const counts = schedules.filter((event) => event.args?.label === "Countdown.count");
    assert.equal(counts.length, 2);
    assert.equal(counts[1].args?.by, counts[0].args?.call, "scheduled by the call running");
    const moved = schedules.find((event) => event.args?.delayS === 5)?.args?.call;
    assert.ok(events.some((event) => event.name === "reset" && event.args?.call === moved));
    assert.ok(events.some((event) => event.name === "cancel" && event.args?.call === moved));

    const fired = events.filter((event) => event.args?.kind === "delayedCall");
    assert.ok(fired.every((event) => typeof event.args?.lateUs === "number"));
    const threw = fired.find((event) => event.args?.outcome === "threw");
    assert.equal(threw?.args?.detail, "Error: on purpose");
    assert.ok(names.includes("reactor:unhandledError"));
    assert.ok(names.includes("reactor:stop"));
    assert.ok(!names.includes("reactor:crash"), "stop's own crash is not recorded");

    const ended = events.find((event) => event.name === "ended");
    const pending = ended?.args?.delayed as { label: string; dueInS: number }[];
    const forgotten = pending.find((call) => call.label === "forgotten");
    assert.ok(forgotten !== undefined && forgotten.dueInS > 29, JSON.stringify(pending));
  });
}

Deno.test("a traced LoopingCall: its ticks are callbacks of kind loopingCall, with its id", async () => {
  const events = await traced(async () => {
    const reactor = new SelectReactor();
    let ticks = 0;
    const loop = new LoopingCall(function tick() {
      if (++ticks === 3) loop.stop();
    });
    loop.clock = reactor;
    reactor.callWhenRunning(() => loop.start(0.01).then(() => reactor.stop()));
    await runAtMost(reactor);
  });
  const ticks = events.filter((event) => event.args?.kind === "loopingCall");
  assert.equal(ticks.length, 3);
  assert.ok(ticks.every((event) => event.name === "LoopingCall of tick"));
  assert.equal(new Set(ticks.map((event) => event.args?.loop)).size, 1);
  assert.ok(ticks.slice(1).every((event) => typeof event.args?.lateUs === "number"));
});

Deno.test("tracing off: a reactor run records nothing", async () => {
  let written = "";
  startTracing((chunk) => written += chunk);
  stopTracing();
  const reactor = new SelectReactor();
  reactor.callLater(0.01, () => reactor.stop());
  await runAtMost(reactor);
  assert.equal(written, "");
});
