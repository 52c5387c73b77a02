/**
 * The exercise checker's judgements, tried on made-up traces (events as the reactor
 * records them, lib/trace/mod.ts, read into tools/trace/read.ts's model): counters found
 * as chains of delayed calls, three counters judged right or wrong, a LoopingCall, the
 * timeouts of Part 4, reads on three sockets at once, and the trace file read while it
 * grows.
 *
 * Run: deno test -A tests/exercise_analysis_test.ts
 */

import assert from "node:assert/strict";
import {
  judgeLoopingCall,
  judgeOverlapInTrace,
  judgeThreeCounters,
  judgeTimeouts,
} from "../tools/exercise/checks.ts";
import { Report } from "../tools/exercise/report.ts";
import { findCounters } from "../tools/exercise/trace_facts.ts";
import { modelOfRun } from "../tools/trace/read.ts";
import { TraceTail } from "../tools/exercise/trace_file.ts";
import type { TraceEvent } from "../lib/trace/mod.ts";

const S = 1e6; // µs in a second

/** Makes trace events as the reactor records them; times in seconds. */
class TraceBuilder {
  readonly events: TraceEvent[] = [];
  #nextCall = 1;

  #add(name: string, cat: string, ph: TraceEvent["ph"], at: number, args = {}, dur?: number) {
    this.events.push({ name, cat, ph, ts: at * S, dur, pid: 1, tid: 1, args });
  }
  run(at: number): void {
    this.#add("run", "reactor", "i", at, { reactor: "SelectReactor" });
  }
  stop(at: number): void {
    this.#add("stop", "reactor", "i", at);
  }
  ended(at: number, delayed: Array<{ call: number; label: string; dueInS: number }>): void {
    this.#add("ended", "reactor", "i", at, { readers: [], writers: [], delayed });
  }
  schedule(at: number, label: string, delayS: number, by?: number): number {
    const call = this.#nextCall++;
    this.#add("schedule", "delayed", "i", at, {
      call,
      label,
      delayS,
      dueUs: (at + delayS) * S,
      by,
    });
    return call;
  }
  cancel(at: number, call: number): void {
    this.#add("cancel", "delayed", "i", at, { call });
  }
  fired(at: number, call: number, label: string, durationS = 0.0001): void {
    this.#add(label, "callback", "X", at, { kind: "delayedCall", call, lateUs: 0 }, durationS * S);
  }
  wait(from: number, to: number): void {
    this.#add("wait", "reactor", "B", from, { readers: [], writers: [], timeout: to - from });
    this.#add("wait", "reactor", "E", to, { readable: [], writable: [] });
  }
  loopingTick(at: number, loop: number, name: string): void {
    this.#add(name, "callback", "X", at, { kind: "loopingCall", loop }, 100);
  }
  recv(at: number, fd: number, bytes: number): void {
    this.events.push({
      name: "recv",
      cat: "socket",
      ph: "i",
      ts: at * S,
      pid: 1,
      tid: 1000 + fd,
      args: { fd, bytes },
    });
  }
  reset(at: number, call: number, dueAt: number): void {
    this.#add("reset", "delayed", "i", at, { call, dueUs: dueAt * S });
  }
  close(at: number, fd: number): void {
    this.events.push({
      name: "close",
      cat: "socket",
      ph: "i",
      ts: at * S,
      pid: 1,
      tid: 1000 + fd,
      args: { fd },
    });
  }
  sorted(): TraceEvent[] {
    return this.events.toSorted((a, b) => a.ts - b.ts);
  }
}

/**
 * Countdowns from `from` at the given paces, each a chain of `Countdown.count` calls, as
 * basic/countdown.ts makes one: its first count at once, then one call per count and
 * one more that finds zero. With `stopWhen: "all done"` the last to finish stops the
 * reactor; with `"first done"` the first one does (the wrong answer).
 */
function countdowns(paces: number[], stopWhen: "all done" | "first done", from = 5) {
  const trace = new TraceBuilder();
  trace.run(0);
  const pending = new Map<number, { due: number; counter: number; left: number }>();
  for (const [counter, pace] of paces.entries()) {
    pending.set(trace.schedule(0, "Countdown.count", pace), {
      due: pace,
      counter,
      left: from - 1,
    });
  }
  let running = paces.length;
  for (;;) {
    const [call, next] = [...pending.entries()].sort((a, b) => a[1].due - b[1].due)[0];
    pending.delete(call);
    trace.fired(next.due, call, "Countdown.count");
    if (next.left > 0) {
      const pace = paces[next.counter];
      const later = trace.schedule(next.due, "Countdown.count", pace, call);
      pending.set(later, { due: next.due + pace, counter: next.counter, left: next.left - 1 });
    } else if (--running === 0 || stopWhen === "first done") {
      trace.stop(next.due);
      const end = next.due + 0.001;
      trace.ended(
        end,
        [...pending.entries()].map(([id, { due }]) => ({
          call: id,
          label: "Countdown.count",
          dueInS: due - end,
        })),
      );
      return trace;
    }
  }
}

/** Judges with `judge`, quietly, and returns the report's lines and verdict. */
function judged(judge: (report: Report) => void): { passing: boolean; lines: string[] } {
  const lines: string[] = [];
  const report = new Report((line) => lines.push(line));
  judge(report);
  report.finish();
  return { passing: report.passing, lines };
}

Deno.test("three countdowns at three paces, the last one stopping the reactor, pass 3.1", () => {
  const facts = modelOfRun(countdowns([1, 0.5, 0.3], "all done").sorted());
  const counters = findCounters(facts);
  assert.deepEqual(counters.map((counter) => [counter.intervalS, counter.ending]), [
    [1, "ran out"],
    [0.5, "ran out"],
    [0.3, "ran out"],
  ]);
  assert.deepEqual(counters.map((counter) => counter.ticksUs.length), [5, 5, 5]);
  const { passing, lines } = judged((report) => judgeThreeCounters(report, facts));
  assert.ok(passing, lines.join("\n"));
});

Deno.test("3.1: a counter that stops the reactor at zero fails, naming the count still due", () => {
  const facts = modelOfRun(countdowns([1, 0.5, 0.3], "first done").sorted());
  const { passing, lines } = judged((report) => judgeThreeCounters(report, facts));
  assert.equal(passing, false);
  const failures = lines.filter((line) => line.startsWith("  FAIL"));
  assert.deepEqual(failures.length, 1, lines.join("\n"));
  // At 1.5 s the fast one is done; slow is due at 2 s, medium at 2 s.
  assert.match(
    failures[0],
    /each counted to its end \(Countdown\.count \(every 1\.00 s\) was still due in 0\.50 s/,
  );
  assert.match(
    failures[0],
    /; Countdown\.count \(every 0\.50 s\) was still due in 0\.50 s when the reactor stopped\)/,
  );
  assert.ok(lines.some((line) => line.includes("let the last one to finish call reactor.stop()")));
});

Deno.test("3.1: counters at one pace, or one after another, fail", () => {
  const samePace = modelOfRun(countdowns([0.3, 0.3, 0.32], "all done").sorted());
  const pace = judged((report) => judgeThreeCounters(report, samePace));
  assert.equal(pace.passing, false);
  assert.ok(pace.lines.some((line) => /FAIL {2}at three different rates/.test(line)));

  // One counter after another: each one's first call is scheduled by the last of the one before.
  const trace = new TraceBuilder();
  trace.run(0);
  let by: number | undefined;
  let at = 0;
  for (const pace of [0.1, 0.2, 0.4]) {
    for (let count = 0; count < 3; count++) {
      const call = trace.schedule(
        at,
        count === 0 ? `Counter${pace}.start` : "Counter.count",
        pace,
        by,
      );
      at += pace;
      trace.fired(at, call, "Counter.count");
      by = call;
    }
  }
  trace.stop(at);
  trace.ended(at, []);
  const serial = judged((report) => judgeThreeCounters(report, modelOfRun(trace.sorted())));
  assert.equal(serial.passing, false, serial.lines.join("\n"));
});

Deno.test("a counter that schedules something else goes on with its own next count", () => {
  const trace = new TraceBuilder();
  trace.run(0);
  let call = trace.schedule(0, "Countdown.count", 0.1);
  for (let count = 1; count <= 4; count++) {
    trace.fired(count * 0.1, call, "Countdown.count");
    trace.schedule(count * 0.1, "Countdown.flash", 0.01, call);
    if (count < 4) call = trace.schedule(count * 0.1, "Countdown.count", 0.1, call);
  }
  const counters = findCounters(modelOfRun(trace.sorted()));
  assert.deepEqual(counters.map((counter) => [counter.label, counter.calls.length]), [
    ["Countdown.count", 5], // the last one's flash ends it
  ]);
});

Deno.test("async counters: a call scheduled in the wait after a turn continues a call of that turn", () => {
  // Two counters awaiting a sleep: both sleeps end in one turn; their continuations run
  // in the wait after it, in the order the calls ran, and schedule the next sleeps.
  const trace = new TraceBuilder();
  trace.run(0);
  let [a, b] = [trace.schedule(0, "sleep", 0.1), trace.schedule(0, "sleep", 0.1)];
  trace.fired(0, 0, "whenRunning"); // the callback that scheduled the first two
  for (let turn = 1; turn <= 3; turn++) {
    trace.wait(turn * 0.1 - 0.1 + 0.01, turn * 0.1);
    trace.fired(turn * 0.1, a, "sleep");
    trace.fired(turn * 0.1 + 0.001, b, "sleep");
    trace.wait(turn * 0.1 + 0.002, turn * 0.1 + 0.004);
    a = trace.schedule(turn * 0.1 + 0.003, "sleep", 0.1);
    b = trace.schedule(turn * 0.1 + 0.0031, "sleep", 0.2);
  }
  const counters = findCounters(modelOfRun(trace.sorted()));
  assert.deepEqual(counters.map((counter) => [counter.calls.length, counter.intervalS]), [
    [4, 0.1],
    [4, 0.2],
  ]);
});

Deno.test("3.2: a LoopingCall that ticks, stops and stops the reactor passes, whatever its name", () => {
  for (const name of ["LoopingCall of countdown", "LoopingCall of tick", "LoopingCall"]) {
    const trace = new TraceBuilder();
    trace.run(0);
    let call = trace.schedule(0, "LoopingCall", 0.2);
    for (let tick = 0; tick < 6; tick++) {
      trace.loopingTick(tick * 0.2, 99, name);
      if (tick > 0) trace.fired(tick * 0.2, call, "LoopingCall");
      if (tick < 5) {
        call = trace.schedule(tick * 0.2, "LoopingCall", 0.2, tick === 0 ? undefined : call);
      }
    }
    trace.stop(1.0);
    trace.ended(1.001, []);
    const { passing, lines } = judged((report) =>
      judgeLoopingCall(report, modelOfRun(trace.sorted()))
    );
    assert.ok(passing, lines.join("\n"));
    assert.ok(
      lines.some((line) => line.includes(`a LoopingCall ran: ${name}, 6 times, every 0.20 s`)),
    );
  }
});

Deno.test("3.2: without a LoopingCall, or with its next call still pending, it fails", () => {
  const none = judged((report) =>
    judgeLoopingCall(report, modelOfRun(countdowns([1], "all done").sorted()))
  );
  assert.equal(none.passing, false);
  assert.ok(none.lines.includes("  FAIL  a LoopingCall ran (none did)"));

  const trace = new TraceBuilder();
  trace.run(0);
  for (let tick = 0; tick < 4; tick++) trace.loopingTick(tick * 0.1, 7, "LoopingCall of count");
  const next = trace.schedule(0.3, "LoopingCall of count", 0.1);
  trace.stop(0.35);
  trace.ended(0.35, [{ call: next, label: "LoopingCall of count", dueInS: 0.05 }]);
  const pending = judged((report) => judgeLoopingCall(report, modelOfRun(trace.sorted())));
  assert.equal(pending.passing, false);
  assert.ok(
    pending.lines.some((line) =>
      line.includes("LoopingCall of count was still due in 0.05 s when the reactor stopped")
    ),
    pending.lines.join("\n"),
  );
});

/** Three timeouts of 1 s at the start; poems 1 and 3 end at 0.6 s and 0.7 s. */
function timeouts(cancelled: boolean): TraceEvent[] {
  const trace = new TraceBuilder();
  trace.run(0);
  const calls = [1, 2, 3].map((task) => trace.schedule(0.01 * task, "TimedPoetrySocket.giveUp", 1));
  if (cancelled) {
    trace.cancel(0.6, calls[0]);
    trace.cancel(0.7, calls[2]);
  } else {
    trace.fired(1.01, calls[0], "TimedPoetrySocket.giveUp");
  }
  trace.fired(1.02, calls[1], "TimedPoetrySocket.giveUp");
  trace.stop(1.02);
  if (!cancelled) trace.fired(1.03, calls[2], "TimedPoetrySocket.giveUp");
  trace.ended(1.04, []);
  return trace.sorted();
}

Deno.test("4.2: timeouts cancelled when their poems end pass; timeouts never cancelled fail", () => {
  const right = judged((report) => judgeTimeouts(report, modelOfRun(timeouts(true)), 1, 1));
  assert.ok(right.passing, right.lines.join("\n"));
  assert.ok(right.lines.includes(
    "  timeouts (TimedPoetrySocket.giveUp): 3 made, 1 fired, 2 " +
      "cancelled, 0 still pending at the end; 1 download given up",
  ));

  const wrong = judged((report) => judgeTimeouts(report, modelOfRun(timeouts(false)), 1, 1));
  assert.equal(wrong.passing, false);
  assert.ok(
    wrong.lines.some((line) =>
      line.startsWith(
        "  FAIL  2 timeouts fired on a finished poem: 3 fired (TimedPoetrySocket.giveUp at 1.01 s",
      )
    ),
    wrong.lines.join("\n"),
  );
});

Deno.test("4.2: a timer made with another delay and reset to the limit is a timeout", () => {
  const trace = new TraceBuilder();
  trace.run(0);
  const calls = [1, 2].map((task) => trace.schedule(0.01 * task, "Watched.expire", 3600));
  for (const call of calls) trace.reset(0.05, call, 1.05);
  trace.cancel(0.5, calls[0]);
  trace.fired(1.05, calls[1], "Watched.expire");
  trace.stop(1.06);
  trace.ended(1.07, []);
  const reset = judged((report) => judgeTimeouts(report, modelOfRun(trace.sorted()), 1, 1));
  assert.ok(reset.passing, reset.lines.join("\n"));
  assert.ok(reset.lines.includes("  ok    a timeout: a callLater of about 1 s (2 made)"));
});

Deno.test("4.2: a callLater in milliseconds (1000 for 1 s) is named as such", () => {
  const trace = new TraceBuilder();
  trace.run(0);
  trace.schedule(0, "giveUp", 1000);
  const model = modelOfRun(trace.sorted());
  const ms = judged((report) => judgeTimeouts(report, model, 1, 0));
  assert.equal(ms.passing, false);
  assert.ok(
    ms.lines.includes(
      "    hint: giveUp was made with callLater(1000, ...): callLater counts seconds, not " +
        "milliseconds. Call reactor.callLater(timeout, ...) when each download starts, and " +
        "keep what it returns: an IDelayedCall, with cancel().",
    ),
    ms.lines.join("\n"),
  );
});

Deno.test("4.2: a timeout that fires on a poem still coming is not one fired on a finished poem", () => {
  // Two sockets: fd 3's poem ends at 0.5 s (its timeout cancelled), fd 4's goes on past
  // the limit; its timeout fires at 1 s but does not give it up (the servers saw none).
  const trace = new TraceBuilder();
  trace.run(0);
  const [first, second] = [3, 4].map((fd) => trace.schedule(0, `timeout ${fd}`, 1));
  trace.recv(0.1, 3, 50);
  trace.recv(0.5, 3, 0);
  trace.close(0.5, 3);
  trace.cancel(0.5, first);
  for (let at = 0.1; at < 3; at += 0.5) trace.recv(at, 4, 30);
  trace.fired(1, second, "timeout 4");
  trace.recv(3, 4, 0);
  trace.close(3, 4);
  trace.stop(3);
  trace.ended(3, []);
  const model = modelOfRun(trace.sorted());
  const still = judged((report) => judgeTimeouts(report, model, 1, 0));
  assert.ok(
    still.lines.includes("  ok    no timeout fired on a finished poem"),
    still.lines.join("\n"),
  );
  // Had fd 4's poem ended before its timeout fired, that one would have.
  const late = new TraceBuilder();
  late.run(0);
  const call = late.schedule(0, "timeout 3", 1);
  late.recv(0.1, 3, 50);
  late.recv(0.5, 3, 0);
  late.close(0.5, 3);
  late.fired(1, call, "timeout 3");
  late.stop(1);
  late.ended(1, []);
  const finished = judged((report) => judgeTimeouts(report, modelOfRun(late.sorted()), 1, 0));
  assert.ok(
    finished.lines.some((line) =>
      line.startsWith("  FAIL  1 timeout fired on a finished poem: 1 fired (timeout 3 at 1.00 s)")
    ),
    finished.lines.join("\n"),
  );
});

Deno.test("4.2: a timeout left pending when the reactor stopped fails, and none at all fails", () => {
  const trace = new TraceBuilder();
  trace.run(0);
  const call = trace.schedule(0, "giveUp", 1);
  trace.stop(0.7);
  trace.ended(0.7, [{ call, label: "giveUp", dueInS: 0.3 }]);
  const pending = judged((report) => judgeTimeouts(report, modelOfRun(trace.sorted()), 1, 0));
  assert.equal(pending.passing, false);
  assert.ok(pending.lines.some((line) => line.includes("giveUp was still due in 0.30 s")));

  const none = judged((report) => judgeTimeouts(report, modelOfRun([]), 1, 1));
  assert.ok(none.lines.includes("  FAIL  a timeout: a callLater of about 1 s (no reactor ran)"));
});

Deno.test("2.3: reads on three sockets at once pass; one socket after another fails", () => {
  const together = new TraceBuilder();
  const apart = new TraceBuilder();
  for (const [index, fd] of [3, 4, 5].entries()) {
    for (let step = 0; step < 5; step++) {
      together.recv(step * 0.1 + index * 0.01, fd, 10);
      apart.recv(index + step * 0.1, fd, 10);
    }
  }
  const yes = judged((report) => judgeOverlapInTrace(report, modelOfRun(together.sorted())));
  assert.ok(yes.passing, yes.lines.join("\n"));
  const no = judged((report) => judgeOverlapInTrace(report, modelOfRun(apart.sorted())));
  assert.equal(no.passing, false);
  const untraced = judged((report) => judgeOverlapInTrace(report, modelOfRun([])));
  assert.ok(untraced.passing);
  assert.match(untraced.lines[0], /the servers' view decides/);
});

Deno.test("the trace file is read as it grows, whole lines only", () => {
  const path = Deno.makeTempFileSync({ suffix: ".json" });
  try {
    const tail = new TraceTail(path);
    const line = (name: string) =>
      JSON.stringify({ name, cat: "reactor", ph: "i", ts: 1, pid: 1, tid: 1 }) + ",\n";
    Deno.writeTextFileSync(path, "[\n" + line("run") + line("stop").slice(0, 20));
    assert.deepEqual(tail.read().map((event) => event.name), ["run"]);
    Deno.writeTextFileSync(path, line("stop").slice(20) + "not json,\n", { append: true });
    assert.deepEqual(tail.read().map((event) => event.name), ["stop"]);
    assert.deepEqual(tail.events.map((event) => event.name), ["run", "stop"]);
    assert.deepEqual(new TraceTail(`${path}.missing`).read(), []);
  } finally {
    Deno.removeSync(path);
  }
});

Deno.test("the trace file of a spinning program, 300,000 events at once, is read whole", () => {
  const path = Deno.makeTempFileSync({ suffix: ".json" });
  try {
    const line = JSON.stringify({
      name: "doRead",
      cat: "callback",
      ph: "X",
      ts: 1,
      pid: 1,
      tid: 1,
    });
    Deno.writeTextFileSync(path, "[\n" + `${line},\n`.repeat(300_000));
    const tail = new TraceTail(path);
    assert.equal(tail.read().length, 300_000); // spread into push(), this overflowed the stack
    assert.equal(tail.events.length, 300_000);
  } finally {
    Deno.removeSync(path);
  }
});
