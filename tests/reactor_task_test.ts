/**
 * `Clock`, `DelayedCall` and `LoopingCall` (lib/reactor/task.ts), all on a
 * `Clock`, so time is exact and the suite is instant. A last test runs a
 * LoopingCall on the real reactor (the countdown exercise of Part 3).
 */

import assert from "node:assert/strict";
import { Clock, LoopingCall } from "../lib/reactor/task.ts";
import { AlreadyCalled, AlreadyCancelled } from "../lib/reactor/error.ts";
import { SelectReactor } from "../lib/reactor/select.ts";
import { PollReactor } from "../lib/reactor/poll.ts";
import { sleep } from "../lib/socket/mod.ts";

// -- Clock and delayed calls ---------------------------------------------------

Deno.test("Clock: calls run in time order when time is advanced, not before", () => {
  const clock = new Clock();
  const order: string[] = [];
  clock.callLater(3, () => order.push("c"));
  clock.callLater(1, (word: string) => order.push(word), "a");
  clock.callLater(2, () => order.push("b"));
  assert.equal(clock.seconds(), 0);
  clock.advance(0.5);
  assert.deepEqual(order, []);
  clock.advance(0.5);
  assert.deepEqual(order, ["a"]);
  clock.advance(5);
  assert.deepEqual(order, ["a", "b", "c"]);
  assert.equal(clock.seconds(), 6);
});

Deno.test("Clock: ties run in scheduling order", () => {
  const clock = new Clock();
  const order: number[] = [];
  for (let i = 0; i < 50; i++) clock.callLater(i % 2 === 0 ? 1 : 2, () => order.push(i));
  clock.advance(2);
  const evens = [...Array(25).keys()].map((i) => 2 * i);
  assert.deepEqual(order, [...evens, ...evens.map((i) => i + 1)]);
});

Deno.test("Clock: a call that was moved counts as scheduled last among ties", () => {
  const clock = new Clock();
  const order: string[] = [];
  const first = clock.callLater(1, () => order.push("first"));
  clock.callLater(1, () => order.push("second"));
  first.reset(1);
  clock.callLater(1, () => order.push("third"));
  clock.advance(1);
  assert.deepEqual(order, ["second", "first", "third"]);
});

Deno.test("DelayedCall: getTime, delay, reset, cancel, active", () => {
  const clock = new Clock();
  clock.advance(10);
  const ran: string[] = [];
  const call = clock.callLater(5, () => ran.push("call"));
  assert.equal(call.getTime(), 15);
  assert.equal(call.active(), true);
  call.delay(2);
  assert.equal(call.getTime(), 17);
  call.delay(-4);
  assert.equal(call.getTime(), 13);
  clock.advance(1);
  call.reset(10); // from now (11), not from the old due time
  assert.equal(call.getTime(), 21);
  clock.advance(9);
  assert.equal(ran.length, 0);
  clock.advance(1);
  assert.deepEqual(ran, ["call"]);
  assert.equal(call.active(), false);
  assert.equal(call.called, true);

  const cancelled = clock.callLater(1, () => ran.push("cancelled"));
  cancelled.cancel();
  assert.equal(cancelled.active(), false);
  assert.equal(cancelled.cancelled, true);
  clock.advance(5);
  assert.deepEqual(ran, ["call"]);
  assert.match(String(clock.callLater(1.5, function hello() {})), /\[in 1\.50s\].*hello\(\)/);
});

Deno.test("DelayedCall: cancel, reset and delay after cancel or call throw", () => {
  const clock = new Clock();
  const cancelled = clock.callLater(1, () => {});
  cancelled.cancel();
  assert.throws(() => cancelled.cancel(), AlreadyCancelled);
  assert.throws(() => cancelled.reset(1), AlreadyCancelled);
  assert.throws(() => cancelled.delay(1), AlreadyCancelled);
  assert.throws(() => cancelled.cancel(), /Tried to cancel an already-cancelled event\./);

  const called = clock.callLater(1, () => {});
  clock.advance(1);
  assert.throws(() => called.cancel(), AlreadyCalled);
  assert.throws(() => called.reset(1), AlreadyCalled);
  assert.throws(() => called.delay(1), AlreadyCalled);
  assert.throws(() => called.cancel(), /Tried to cancel an already-called event\./);

  // A call cancelling itself while it runs: it has been called already.
  let selfCancel: unknown;
  const self = clock.callLater(1, () => {
    try {
      self.cancel();
    } catch (error) {
      selfCancel = error;
    }
  });
  clock.advance(1);
  assert.ok(selfCancel instanceof AlreadyCalled);
});

Deno.test("DelayedCall: a due call cancelled by an earlier call of the same round does not run", () => {
  const clock = new Clock();
  const order: string[] = [];
  clock.callLater(1, () => {
    order.push("a");
    victim.cancel();
    moved.reset(5);
  });
  const victim = clock.callLater(1, () => order.push("victim"));
  const moved = clock.callLater(1, () => order.push("moved"));
  clock.advance(1);
  assert.deepEqual(order, ["a"]);
  clock.advance(5);
  assert.deepEqual(order, ["a", "moved"]);
});

Deno.test("Clock: getDelayedCalls, pump, and 0-delay calls during advance", () => {
  const clock = new Clock();
  const order: string[] = [];
  const a = clock.callLater(1, () => {
    order.push("a");
    clock.callLater(0, () => order.push("a's follow-up"));
  });
  const b = clock.callLater(2, () => order.push("b"));
  assert.deepEqual(new Set(clock.getDelayedCalls()), new Set([a, b]));
  clock.pump([0.5, 0.5, 0.5]);
  assert.deepEqual(order, ["a", "a's follow-up"]);
  assert.deepEqual(clock.getDelayedCalls(), [b]);
  clock.pump([0.5]);
  assert.deepEqual(order, ["a", "a's follow-up", "b"]);
  assert.deepEqual(clock.getDelayedCalls(), []);
  assert.throws(() => clock.advance(-1), RangeError);
});

Deno.test("Clock: errors from calls come out of advance; the rest stay scheduled", () => {
  const clock = new Clock();
  const order: string[] = [];
  clock.callLater(1, () => {
    throw new Error("boom");
  });
  clock.callLater(1, () => order.push("next"));
  assert.throws(() => clock.advance(1), /boom/);
  assert.deepEqual(order, []);
  clock.advance(0);
  assert.deepEqual(order, ["next"]);
});

Deno.test("Clock: many calls and cancellations keep their order", () => {
  const clock = new Clock();
  const fired: number[] = [];
  const calls = [];
  // A deterministic shuffle of due times, with ties.
  for (let i = 0; i < 2000; i++) {
    const due = (i * 7919) % 500;
    calls.push({ i, due, call: clock.callLater(due, () => fired.push(i)) });
  }
  for (const { i, call } of calls) if (i % 3 === 0) call.cancel();
  clock.advance(500);
  const expected = calls.filter(({ i }) => i % 3 !== 0)
    .sort((x, y) => x.due - y.due || x.i - y.i)
    .map(({ i }) => i);
  assert.deepEqual(fired, expected);
});

// -- LoopingCall ---------------------------------------------------------------

function loopOn<Args extends unknown[]>(
  clock: Clock,
  f: (...args: Args) => unknown,
  ...args: Args
): LoopingCall<Args> {
  const loop = new LoopingCall(f, ...args);
  loop.clock = clock;
  return loop;
}

Deno.test("LoopingCall: start() calls now, then every interval", () => {
  const clock = new Clock();
  const times: number[] = [];
  const loop = loopOn(clock, (label: string) => times.push(clock.seconds()) && label, "tick");
  void loop.start(1);
  assert.deepEqual(times, [0]);
  assert.equal(loop.running, true);
  clock.pump([0.5, 0.5, 1, 1]);
  assert.deepEqual(times, [0, 1, 2, 3]);
  loop.stop();
  clock.advance(10);
  assert.deepEqual(times, [0, 1, 2, 3]);
  assert.deepEqual(clock.getDelayedCalls(), []);
});

Deno.test("LoopingCall: start(interval, false) waits one interval first", () => {
  const clock = new Clock();
  const times: number[] = [];
  const loop = loopOn(clock, () => times.push(clock.seconds()));
  void loop.start(2, false);
  assert.deepEqual(times, []);
  clock.pump([1, 1, 2]);
  assert.deepEqual(times, [2, 4]);
  loop.stop();
});

Deno.test("LoopingCall: the promise resolves with the LoopingCall on stop()", async () => {
  const clock = new Clock();
  let count = 0;
  const loop = loopOn(clock, () => {
    count++;
    if (count === 3) loop.stop(); // stopping from inside f works too
  });
  const done = loop.start(1);
  clock.pump([1, 1, 1, 1]);
  assert.equal(await done, loop);
  assert.equal(count, 3);
  assert.equal(loop.running, false);

  const other = loopOn(clock, () => {});
  const otherDone = other.start(1);
  other.stop();
  assert.equal(await otherDone, other);
});

Deno.test("LoopingCall: an error in f rejects the promise and ends the calls", async () => {
  const clock = new Clock();
  let count = 0;
  const loop = loopOn(clock, () => {
    if (++count === 2) throw new Error("I fall down.");
  });
  const done = loop.start(1);
  clock.advance(1);
  await assert.rejects(done, /I fall down\./);
  assert.equal(loop.running, false);
  clock.advance(5);
  assert.equal(count, 2);
  assert.deepEqual(clock.getDelayedCalls(), []);
});

Deno.test("LoopingCall: a rejected promise from f rejects the promise too", async () => {
  const clock = new Clock();
  const loop = loopOn(clock, () => Promise.reject(new Error("async failure")));
  await assert.rejects(loop.start(1), /async failure/);
  assert.equal(loop.running, false);
});

Deno.test("LoopingCall: a promise from f delays the next call; missed intervals are skipped", async () => {
  const clock = new Clock();
  const times: number[] = [];
  let finish: () => void = () => {};
  const loop = loopOn(clock, () => {
    times.push(clock.seconds());
    if (times.length === 2) return new Promise<void>((resolve) => finish = resolve);
  });
  void loop.start(1);
  clock.advance(1); // second call, which returns a pending promise
  clock.advance(2.5); // now 3.5: the calls due at 2 and 3 must not happen
  assert.deepEqual(times, [0, 1]);
  assert.deepEqual(clock.getDelayedCalls(), []);
  finish();
  await Promise.resolve(); // let the promise's callbacks run
  await Promise.resolve();
  // Next call at the next point of the grid: 4, not 3.5 + 1.
  assert.equal(clock.getDelayedCalls()[0].getTime(), 4);
  clock.advance(0.5);
  assert.deepEqual(times, [0, 1, 4]);
  loop.stop();
});

Deno.test("LoopingCall: a late clock skips the intervals it missed", () => {
  const clock = new Clock();
  const times: number[] = [];
  const loop = loopOn(clock, () => times.push(clock.seconds()));
  void loop.start(1);
  clock.advance(3.5); // one late call at 3.5 for the points 1, 2 and 3
  assert.deepEqual(times, [0, 3.5]);
  clock.advance(0.5);
  assert.deepEqual(times, [0, 3.5, 4]);
  loop.stop();
});

Deno.test("LoopingCall: stop() while f's promise is pending resolves when it settles", async () => {
  const clock = new Clock();
  let finish: () => void = () => {};
  const loop = loopOn(clock, () => new Promise<void>((resolve) => finish = resolve));
  let resolved = false;
  const done = loop.start(1).then((value) => {
    resolved = true;
    return value;
  });
  loop.stop();
  await Promise.resolve();
  assert.equal(resolved, false);
  finish();
  assert.equal(await done, loop);
  assert.deepEqual(clock.getDelayedCalls(), []);
});

Deno.test("LoopingCall: interval 0, bad intervals, double start and stop", () => {
  const clock = new Clock();
  let count = 0;
  // Interval 0: again at once, for ever (advance runs due calls until none is left).
  const loop = loopOn(clock, () => {
    if (++count === 3) assert.throws(() => loop.start(1), /already running/);
    if (count === 10) loop.stop();
  });
  void loop.start(0);
  assert.equal(count, 1);
  clock.advance(0);
  assert.equal(count, 10);
  assert.throws(() => loop.stop(), /not running/);
  assert.throws(() => loop.start(-1), RangeError);
  assert.equal(loop.interval, 0);
});

/** Lets the callbacks of settled promises run (a Clock test waits for nothing else). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

Deno.test("LoopingCall.withCount: 1 when on time, the intervals passed when late", () => {
  const clock = new Clock();
  const calls: Array<[number, number]> = [];
  const loop = LoopingCall.withCount((count) => calls.push([clock.seconds(), count]));
  loop.clock = clock;
  void loop.start(0.5);
  assert.deepEqual(calls, [[0, 1]], "the first call counts 1");
  clock.advance(0.51); // a little late: still one interval
  clock.advance(0.875); // now 1.385: held up past the point at 1.0
  clock.advance(0.125); // 1.51: the point at 1.5, on time again
  clock.advance(1.6); // 3.11: the points at 2, 2.5 and 3 passed, one call for them
  assert.deepEqual(calls.map(([, count]) => count), [1, 1, 1, 1, 3]);
  assert.deepEqual(calls.map(([time]) => time.toFixed(3)), [
    "0.000",
    "0.510",
    "1.385",
    "1.510",
    "3.110",
  ]);
  loop.stop();
});

Deno.test("LoopingCall.withCount: start(interval, false) counts from the start", () => {
  const clock = new Clock();
  const counts: number[] = [];
  const loop = LoopingCall.withCount((count) => counts.push(count));
  loop.clock = clock;
  void loop.start(2, false);
  clock.advance(2);
  clock.advance(5); // 7: the points at 4 and 6 passed
  assert.deepEqual(counts, [1, 2]);
  loop.stop();
});

Deno.test("LoopingCall.withCount: counts add up to the intervals, none is 0, with 0.1 s steps", () => {
  const clock = new Clock();
  const counts: number[] = [];
  const loop = LoopingCall.withCount((count) => counts.push(count));
  loop.clock = clock;
  const interval = 1 / 10; // not exact in binary: ten steps do not quite make 1
  void loop.start(interval, false);
  for (let i = 0; i < 10; i++) clock.advance(interval);
  const shortfall = 1 - Array(10).fill(interval).reduce((a, b) => a + b);
  assert.ok(shortfall > 0, "the sum of ten 0.1 s steps falls short of 1 s");
  clock.advance(shortfall);
  assert.ok(clock.seconds() >= 1);
  assert.equal(counts.reduce((a, b) => a + b, 0), 10);
  assert.ok(!counts.includes(0), `counts: ${counts}`);
  loop.stop();
});

Deno.test("LoopingCall.withCount: a pending promise holds the calls; the next counts what passed", async () => {
  const clock = new Clock();
  const counts: number[] = [];
  let finish: () => void = () => {};
  const loop = LoopingCall.withCount((count) => {
    counts.push(count);
    if (counts.length === 1) return new Promise<void>((resolve) => finish = resolve);
  });
  loop.clock = clock;
  void loop.start(0.2, false);
  clock.pump([0.2, 0.4]); // the first call at 0.2 returns a promise, still pending at 0.6
  assert.deepEqual(counts, [1]);
  finish();
  await settle();
  clock.advance(0.2); // 0.8: the points at 0.4, 0.6 and 0.8 passed since the last call
  assert.deepEqual(counts, [1, 3]);
  loop.stop();
});

Deno.test("LoopingCall.withCount: with interval 0 every call counts 1, and a new interval counts from the last call", async () => {
  const clock = new Clock();
  const counts: number[] = [];
  let finish: () => void = () => {};
  const loop = LoopingCall.withCount((count) => {
    counts.push(count);
    if (counts.length === 2) return new Promise<void>((resolve) => finish = resolve);
  });
  loop.clock = clock;
  void loop.start(0, false);
  clock.advance(10); // called at 10, twice; the second call's promise holds the loop
  assert.deepEqual(counts, [1, 1]);
  loop.interval = 2; // from now on, every 2 s on the grid from the start (0)
  finish();
  await settle();
  clock.advance(7); // 17: the points at 12, 14 and 16 passed since the call at 10
  assert.deepEqual(counts, [1, 1, 3]);
  clock.advance(2); // 19: only 18
  clock.advance(4); // 23: 20 and 22
  assert.deepEqual(counts, [1, 1, 3, 1, 2]);
  loop.stop();
});

Deno.test("LoopingCall.withCount on both real reactors: a blocked program learns it fell behind", async () => {
  for (const Reactor of [SelectReactor, PollReactor]) {
    const reactor = new Reactor();
    const counts: number[] = [];
    const loop = LoopingCall.withCount((count) => {
      counts.push(count);
      if (counts.length === 1) sleep(0.06); // blocks the thread for six intervals
      if (counts.length === 2) {
        loop.stop();
        reactor.stop();
      }
    });
    loop.clock = reactor;
    reactor.callWhenRunning(() => loop.start(0.01));
    reactor.callLater(5, () => reactor.running && reactor.stop()); // fails, never hangs
    await reactor.run();
    assert.equal(counts.length, 2, Reactor.name);
    assert.equal(counts[0], 1);
    assert.ok(counts[1] >= 5, `${Reactor.name}: counted ${counts[1]} after blocking 6 intervals`);
  }
});

Deno.test("LoopingCall: reset() starts the interval again from now", () => {
  const clock = new Clock();
  const times: number[] = [];
  const loop = loopOn(clock, () => times.push(clock.seconds()));
  assert.throws(() => loop.reset(), /not running/);
  void loop.start(2, false);
  clock.advance(1);
  loop.reset(); // the call due at 2 is now due at 3
  clock.advance(1);
  assert.deepEqual(times, []);
  clock.advance(1);
  assert.deepEqual(times, [3]);
  clock.advance(2); // the grid starts from the reset: 3, 5, 7...
  assert.deepEqual(times, [3, 5]);
  assert.equal(loop.startTime, 1);
  loop.stop();
  assert.throws(() => loop.reset(), /not running/);
});

Deno.test("LoopingCall: reset() while f's promise is pending changes nothing", async () => {
  const clock = new Clock();
  const times: number[] = [];
  let finish: () => void = () => {};
  const loop = loopOn(clock, () => {
    times.push(clock.seconds());
    return new Promise<void>((resolve) => finish = resolve);
  });
  void loop.start(1);
  loop.reset();
  assert.deepEqual(clock.getDelayedCalls(), []);
  finish();
  await settle();
  assert.equal(clock.getDelayedCalls()[0].getTime(), 1, "the grid from the start");
  loop.stop();
});

Deno.test("DelayedCall: printed, it says when it is due, its state, and what it calls", () => {
  const clock = new Clock();
  function greet(_name: string, _times: number, _options: { loud: boolean }) {}
  const call = clock.callLater(4.5, greet, "world", 3, { loud: true });
  const expected =
    '<DelayedCall [in 4.50s] called=false cancelled=false greet("world", 3, { loud: true })>';
  assert.equal(String(call), expected);
  assert.equal(`${call}`, expected);
  assert.equal(Deno.inspect(call), expected);
  // console.log prints with Deno.inspect, inside other values too.
  assert.ok(Deno.inspect([call]).includes(expected), Deno.inspect([call]));

  clock.advance(5);
  assert.equal(
    String(call),
    '<DelayedCall [0.50s ago] called=true cancelled=false greet("world", 3, { loud: true })>',
  );
  const cancelled = clock.callLater(1, () => {});
  cancelled.cancel();
  assert.equal(
    String(cancelled),
    "<DelayedCall [in 1.00s] called=false cancelled=true anonymous()>",
  );
});

Deno.test("DelayedCall: printed on both real reactors", () => {
  for (const Reactor of [SelectReactor, PollReactor]) {
    const reactor = new Reactor();
    const call = reactor.callLater(60, function tick(_count: number) {}, 7);
    assert.match(
      Deno.inspect(call),
      /^<DelayedCall \[in (59\.9\d|60\.00)s\] called=false cancelled=false tick\(7\)>$/,
    );
    call.cancel();
    assert.match(Deno.inspect(call), /cancelled=true tick\(7\)>$/);
  }
});

Deno.test("LoopingCall: the countdown of Part 3's exercise, on both real reactors", async () => {
  for (const Reactor of [SelectReactor, PollReactor]) {
    const reactor = new Reactor();
    const lines: string[] = [];
    let counter = 5;
    const countdown = new LoopingCall(() => {
      if (counter === 0) {
        countdown.stop();
        reactor.stop();
      } else {
        lines.push(`${counter--} ...`);
      }
    });
    countdown.clock = reactor;
    assert.equal(countdown.clock, reactor);
    reactor.callWhenRunning(() => countdown.start(0.01));
    await reactor.run();
    assert.deepEqual(lines, ["5 ...", "4 ...", "3 ...", "2 ...", "1 ..."]);
  }
});
