/**
 * The reactor core, one suite run against both reactors (select and poll):
 * the article's conclusions about the loop, delayed calls, system event
 * triggers, run/stop/crash and their errors, error reporting, waking up.
 * Exact timing questions are left to `Clock` (tests/reactor_task_test.ts);
 * the few real-time checks here compare against a much longer fallback.
 */

import assert from "node:assert/strict";
import { formatUnhandledError, type ReactorBase } from "../lib/reactor/base.ts";
import type { SelectReactor } from "../lib/reactor/select.ts";
import {
  ReactorAlreadyRunning,
  ReactorNotRestartable,
  ReactorNotRunning,
} from "../lib/reactor/error.ts";
import { LoopingCall } from "../lib/reactor/task.ts";
import { quietReactor, type ReactorClass, REACTORS } from "./helpers/reactors.ts";

/**
 * A reactor that counts the turns of its loop, so a test can tell which turn
 * a callback ran in.
 */
function countingReactor(Reactor: ReactorClass): { reactor: ReactorBase; turn: () => number } {
  class Counting extends (Reactor as unknown as new () => SelectReactor) {
    turns = 0;
    protected override doIteration(timeout: number | null): Promise<void> {
      this.turns++;
      return super.doIteration(timeout);
    }
  }
  const reactor = new Counting();
  return { reactor, turn: () => reactor.turns };
}

/**
 * Replaces `Deno.addSignalListener` and `Deno.removeSignalListener` for the
 * length of `body`: each call is noted in `log` (`add SIGINT`, `remove SIGINT`)
 * and the listeners are kept in `listeners` instead of being installed, so a
 * test can see when the reactor takes Ctrl-C over and can press it itself.
 */
async function withSignalSpy(
  log: string[],
  body: (listeners: Set<() => void>) => Promise<void>,
): Promise<void> {
  const denoNamespace = Deno as unknown as Record<string, unknown>;
  const [add, remove] = [Deno.addSignalListener, Deno.removeSignalListener];
  const listeners = new Set<() => void>();
  denoNamespace.addSignalListener = (signal: Deno.Signal, listener: () => void) => {
    log.push(`add ${signal}`);
    listeners.add(listener);
  };
  denoNamespace.removeSignalListener = (signal: Deno.Signal, listener: () => void) => {
    log.push(`remove ${signal}`);
    listeners.delete(listener);
  };
  try {
    await body(listeners);
  } finally {
    denoNamespace.addSignalListener = add;
    denoNamespace.removeSignalListener = remove;
  }
}

/** Stops the reactor after `seconds` if the test has not: a fallback that makes a test fail, not hang. */
function stopAfter(reactor: ReactorBase, seconds: number): void {
  reactor.callLater(seconds, () => {
    if (reactor.running) reactor.stop();
  });
}

for (const [name, Reactor] of REACTORS) {
  const test = (title: string, fn: () => void | Promise<void>) =>
    Deno.test(`${name} reactor: ${title}`, fn);

  // -- the article's conclusions ------------------------------------------

  test("the loop does not start until run() is called", async () => {
    const reactor = new Reactor();
    let called = false;
    reactor.callWhenRunning(() => called = true);
    reactor.callLater(0, () => called = true);
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(called, false);
    assert.equal(reactor.running, false);
    reactor.callWhenRunning(() => reactor.stop());
    await reactor.run();
    assert.equal(called, true);
  });

  test("the loop runs in the thread that called run(), which calls us back", async () => {
    const reactor = new Reactor();
    const seen: string[] = [];
    let stack = "";
    reactor.callWhenRunning(() => {
      seen.push("callback");
      stack = new Error().stack ?? "";
      reactor.stop();
    });
    const running = reactor.run();
    seen.push("run() returned its promise");
    await running;
    // Called synchronously from run(), on this thread, before run() returned.
    assert.deepEqual(seen, ["callback", "run() returned its promise"]);
    const frames = stack.split("\n").slice(1);
    const runAt = frames.findIndex((frame) => /Reactor\.run \(/.test(frame));
    assert.ok(runAt > 1, `run() should be below the reactor's own frames:\n${stack}`);
    assert.match(frames.slice(1, runAt).join("\n"), /lib\/reactor\/base\.ts/);
  });

  test("functions it is given run with no `this`: an unbound method fails, reported", async () => {
    const { reactor, reports } = quietReactor(Reactor);
    const thisSeen: Record<string, unknown> = {};
    const see = (where: string) =>
      function (this: unknown) {
        thisSeen[where] = this;
      };
    reactor.callWhenRunning(see("callWhenRunning"));
    reactor.addSystemEventTrigger("before", "shutdown", see("trigger"));
    reactor.callLater(0, see("callLater"));
    const loop = new LoopingCall(see("LoopingCall"));
    loop.clock = reactor;
    loop.start(10);
    class Counter {
      count = 3;
      tick(): void {
        this.count--; // `this` is undefined when passed unbound: a TypeError
      }
    }
    const counter = new Counter();
    reactor.callLater(0, counter.tick);
    reactor.callLater(0.01, () => {
      loop.stop();
      reactor.stop();
    });
    await reactor.run();
    assert.deepEqual(thisSeen, {
      callWhenRunning: undefined,
      trigger: undefined,
      callLater: undefined,
      LoopingCall: undefined,
    });
    assert.equal(counter.count, 3);
    assert.equal(reports.length, 1);
    assert.match(reports[0], /TypeError: Cannot (read|set) properties of undefined/);
  });

  test("once started it keeps going, with nothing to do, until stopped", async () => {
    const reactor = new Reactor();
    const running = reactor.run();
    let settled = false;
    running.then(() => settled = true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(reactor.running, true);
    assert.equal(settled, false);
    reactor.stop(); // from outside the loop: it must wake up to notice
    await running;
    assert.equal(reactor.running, false);
  });

  test("callWhenRunning: in order after start, at once when running", async () => {
    const reactor = new Reactor();
    const order: string[] = [];
    reactor.callWhenRunning((word: string) => order.push(word), "first");
    reactor.callWhenRunning(() => {
      order.push(`second, running=${reactor.running}`);
      const returned = reactor.callWhenRunning(() => order.push("nested, at once"));
      assert.equal(returned, undefined);
      order.push("after nested");
      reactor.stop();
    });
    await reactor.run();
    assert.deepEqual(order, ["first", "second, running=true", "nested, at once", "after nested"]);
  });

  // -- delayed calls --------------------------------------------------------

  test("delayed calls run in time order, with their arguments", async () => {
    const reactor = new Reactor();
    const order: string[] = [];
    reactor.callLater(0.03, (word: string) => order.push(word), "c");
    reactor.callLater(0.01, (word: string) => order.push(word), "a");
    reactor.callLater(0.02, (word: string, n: number) => order.push(word + n), "b", 2);
    reactor.callLater(0.04, () => reactor.stop());
    await reactor.run();
    assert.deepEqual(order, ["a", "b2", "c"]);
  });

  test("delayed calls due at the same time run in scheduling order", async () => {
    const reactor = new Reactor();
    const fixed = reactor.seconds();
    reactor.seconds = () => fixed; // time stands still: every call below ties
    const order: number[] = [];
    for (let i = 0; i < 20; i++) reactor.callLater(0, () => order.push(i));
    const moved = reactor.callLater(5, () => order.push(100));
    moved.reset(0); // rescheduled now: ties, and counts as scheduled last
    reactor.callLater(0, () => reactor.stop());
    await reactor.run();
    assert.deepEqual(order, [...Array(20).keys(), 100]);
  });

  test("a 0-delay call scheduled by a running call waits for the next turn", async () => {
    const { reactor, turn } = countingReactor(Reactor);
    const ran: Array<[string, number]> = [];
    const fixed = reactor.seconds();
    reactor.seconds = () => fixed; // all due at once, so only the turn tells them apart
    reactor.callLater(0, () => {
      ran.push(["a", turn()]);
      reactor.callLater(0, () => {
        ran.push(["b", turn()]);
        reactor.stop();
      });
    });
    reactor.callLater(0, () => ran.push(["c", turn()]));
    await reactor.run();
    assert.deepEqual(ran.map(([call]) => call), ["a", "c", "b"]);
    assert.equal(ran[1][1], ran[0][1], "c runs in the same turn as a");
    assert.equal(ran[2][1], ran[0][1] + 1, "b runs in the next turn");
  });

  test("a call that keeps rescheduling itself at 0 does not starve the others", async () => {
    const { reactor, turn } = countingReactor(Reactor);
    let spins = 0;
    let spinsThisTurn = 0;
    let lastTurn = -1;
    let starved = false;
    const spin = () => {
      spins++;
      spinsThisTurn = turn() === lastTurn ? spinsThisTurn + 1 : 1;
      lastTurn = turn();
      // Run again in the same turn: the loop would never wait, nor run the stop
      // below. End it here, so that the test fails instead of hanging.
      if (spinsThisTurn > 1000) {
        starved = true;
        reactor.crash();
        return;
      }
      reactor.callLater(0, spin);
    };
    reactor.callLater(0, spin);
    reactor.callLater(0.05, () => reactor.stop());
    await reactor.run();
    assert.equal(starved, false, "a 0-delay call scheduled by a call ran in the same turn");
    assert.ok(spins > 10, `spun ${spins} times`);
  });

  test("cancel, reset, delay and active on the reactor", async () => {
    const reactor = new Reactor();
    const order: string[] = [];
    const cancelled = reactor.callLater(0.01, () => order.push("cancelled"));
    const later = reactor.callLater(0.01, () => order.push("delayed"));
    const sooner = reactor.callLater(10, () => order.push("reset"));
    cancelled.cancel();
    later.delay(0.03);
    sooner.reset(0.02);
    assert.equal(cancelled.active(), false);
    assert.equal(later.active(), true);
    assert.equal(reactor.getDelayedCalls().length, 2);
    reactor.callLater(0.06, () => reactor.stop());
    await reactor.run();
    assert.deepEqual(order, ["reset", "delayed"]);
    assert.equal(later.active(), false);
    assert.equal(later.called, true);
  });

  test("a call scheduled from outside the loop (a promise) wakes it at once", async () => {
    const reactor = new Reactor();
    stopAfter(reactor, 10); // the loop sleeps towards this; without a wake-up we would wait
    let scheduledAt = 0;
    let ranAfter = Infinity;
    setTimeout(() => {
      scheduledAt = performance.now();
      reactor.callLater(0, () => {
        ranAfter = performance.now() - scheduledAt;
        reactor.stop();
      });
    }, 50);
    const start = performance.now();
    await reactor.run();
    const total = performance.now() - start;
    assert.ok(ranAfter < 1000, `ran ${ranAfter.toFixed(1)} ms after being scheduled`);
    assert.ok(total < 5000, `the run took ${total.toFixed(0)} ms`);
  });

  test("a call scheduled in a promise callback of a delayed call wakes the loop", async () => {
    const reactor = new Reactor();
    stopAfter(reactor, 10);
    let ranAfter = Infinity;
    reactor.callLater(0, () => {
      const scheduledAt = performance.now();
      Promise.resolve().then(() =>
        reactor.callLater(0, () => {
          ranAfter = performance.now() - scheduledAt;
          reactor.stop();
        })
      );
    });
    await reactor.run();
    assert.ok(ranAfter < 1000, `ran ${ranAfter.toFixed(1)} ms after being scheduled`);
  });

  test("getDelayedCalls and seconds", () => {
    const reactor = new Reactor();
    const before = reactor.seconds();
    const call = reactor.callLater(3, () => {});
    assert.ok(call.getTime() - before >= 3 && call.getTime() - before < 4);
    assert.deepEqual(reactor.getDelayedCalls(), [call]);
    call.cancel();
    assert.deepEqual(reactor.getDelayedCalls(), []);
    assert.ok(reactor.seconds() >= before);
    assert.ok(Math.abs(reactor.seconds() - Date.now() / 1000) < 1, "seconds since the epoch");
  });

  test("callLater refuses a negative or non-numeric delay", () => {
    const reactor = new Reactor();
    assert.throws(() => reactor.callLater(-1, () => {}), RangeError);
    assert.throws(() => reactor.callLater(NaN, () => {}), RangeError);
  });

  // -- errors in callbacks --------------------------------------------------

  test("an error in a callback is reported with its stack, and the loop goes on", async () => {
    const { reactor, reports } = quietReactor(Reactor);
    const order: string[] = [];
    reactor.callWhenRunning(() => {
      throw new Error("I fall down.");
    });
    reactor.callWhenRunning(() => order.push("startup goes on"));
    reactor.callLater(0, () => {
      throw new TypeError("timed call fails");
    });
    reactor.callLater(0, () => order.push("timed calls go on"));
    reactor.callLater(0, () => Promise.reject(new Error("async call fails")));
    reactor.callLater(0.02, () => reactor.stop());
    await reactor.run();
    assert.deepEqual(order, ["startup goes on", "timed calls go on"]);
    assert.equal(reports.length, 3);
    for (const report of reports) assert.match(report, /^Unhandled Error\n/);
    assert.match(reports[0], /Error: I fall down\.\n\s+at /);
    assert.match(reports[1], /TypeError: timed call fails\n\s+at /);
    assert.match(reports[2], /Error: async call fails/);
  });

  test("any thrown value is reported, and every other call due in that turn still runs", async () => {
    const { reactor, reports } = quietReactor(Reactor);
    const fixed = reactor.seconds();
    reactor.seconds = () => fixed; // all due in the same turn
    const strange: unknown[] = [
      Object.create(null), // no toString at all
      new Proxy({}, {
        getPrototypeOf: () => {
          throw new Error("no prototype for you");
        },
      }),
      Symbol("thrown"),
      undefined,
      42n,
    ];
    const ran: number[] = [];
    for (const [index, value] of strange.entries()) {
      reactor.callLater(0, () => {
        throw value;
      });
      reactor.callLater(0, () => ran.push(index));
    }
    reactor.callLater(0, () => reactor.stop());
    const scheduled = reactor.getDelayedCalls().length;
    assert.equal(scheduled, 2 * strange.length + 1);
    const fallback = reactor.callLater(3, () => reactor.stop()); // in case that stop were lost
    await reactor.run();
    assert.deepEqual(ran, [...strange.keys()], "no due call lost");
    assert.deepEqual(reactor.getDelayedCalls(), [fallback], "and none left behind");
    assert.equal(reports.length, strange.length, reports.join("\n---\n"));
    for (const report of reports) assert.match(report, /^Unhandled Error\nUncaught value: /);
    assert.match(reports[0], /null prototype/);
    assert.match(reports[2], /Symbol\(thrown\)/);
  });

  test("a broken error-report hook loses neither the loop nor the report", async () => {
    const reactor = new Reactor();
    const printed: string[] = [];
    const consoleError = console.error;
    reactor.writeErrorReport = () => {
      throw new Error("the hook is broken");
    };
    console.error = (text: string) => printed.push(text);
    const ran: string[] = [];
    try {
      reactor.callLater(0, () => {
        throw new Error("first");
      });
      reactor.callLater(0, () => ran.push("second"));
      reactor.callLater(0.01, () => reactor.stop());
      stopAfter(reactor, 3);
      await reactor.run();
    } finally {
      console.error = consoleError;
    }
    assert.deepEqual(ran, ["second"]);
    assert.equal(printed.length, 1);
    assert.match(printed[0], /^Unhandled Error\nError: first/);
  });

  test("an error thrown by a non-Error value is still reported", async () => {
    const { reactor, reports } = quietReactor(Reactor);
    reactor.callWhenRunning(() => {
      throw "just a string";
    });
    reactor.callWhenRunning(() => reactor.stop());
    await reactor.run();
    assert.deepEqual(reports, ["Unhandled Error\nUncaught value: just a string"]);
  });

  // -- run, stop, crash and their errors -------------------------------------

  test("stop() when not running throws ReactorNotRunning", async () => {
    const reactor = new Reactor();
    assert.throws(() => reactor.stop(), ReactorNotRunning);
    assert.throws(() => reactor.stop(), /Can't stop reactor that isn't running\./);
    reactor.callWhenRunning(() => {
      reactor.stop();
      assert.throws(() => reactor.stop(), ReactorNotRunning); // already stopping
    });
    await reactor.run();
    assert.throws(() => reactor.stop(), ReactorNotRunning);
  });

  test("run() after a stop, or while running, throws ReactorNotRestartable", async () => {
    const reactor = new Reactor();
    reactor.callWhenRunning(() => {
      assert.throws(() => reactor.run(), ReactorAlreadyRunning);
      assert.throws(() => reactor.run(), ReactorNotRestartable);
      reactor.stop();
    });
    await reactor.run();
    assert.throws(() => reactor.run(), ReactorNotRestartable);
    assert.throws(() => reactor.run(), /Can't restart a reactor\./);
  });

  test("run() after a crash runs the reactor again; after the stop, it cannot", async () => {
    const reactor = new Reactor();
    const events: string[] = [];
    reactor.addSystemEventTrigger("before", "startup", () => events.push("before startup"));
    reactor.addSystemEventTrigger("before", "shutdown", () => events.push("before shutdown"));
    reactor.callWhenRunning(() => {
      events.push(`crash, running=${reactor.running}`);
      reactor.crash();
    });
    await reactor.run();
    assert.equal(reactor.running, false);
    reactor.callLater(0, () => events.push("a delayed call of the second run"));
    reactor.callWhenRunning(() => {
      events.push(`stop, running=${reactor.running}`);
      reactor.callLater(0.01, () => reactor.stop());
    });
    await reactor.run();
    assert.deepEqual(events, [
      "before startup",
      "crash, running=true",
      "stop, running=true",
      "a delayed call of the second run",
      "before shutdown",
    ]);
    assert.throws(() => reactor.run(), ReactorNotRestartable);
  });

  test("run() again from the callback that crashed the reactor: one loop at a time", async () => {
    let waiting = 0;
    let mostWaiting = 0;
    class Watched extends (Reactor as unknown as new () => SelectReactor) {
      protected override async doIteration(timeout: number | null): Promise<void> {
        mostWaiting = Math.max(mostWaiting, ++waiting);
        try {
          await super.doIteration(timeout);
        } finally {
          waiting--;
        }
      }
    }
    const reactor = new Watched();
    const order: string[] = [];
    let second: Promise<void> | undefined;
    reactor.callLater(0, () => {
      reactor.crash();
      reactor.callWhenRunning(() => order.push("second run started"));
      second = reactor.run(); // the first run's loop has not noticed the crash yet
      reactor.callLater(0.01, () => {
        order.push("second run's call");
        reactor.stop();
      });
    });
    await reactor.run();
    await second;
    assert.deepEqual(order, ["second run started", "second run's call"]);
    assert.equal(mostWaiting, 1, "the two runs' loops never waited at the same time");
    assert.throws(() => reactor.run(), ReactorNotRestartable);
  });

  test("SIGINT is taken over in the during phase of startup and given back at shutdown", async () => {
    const log: string[] = [];
    await withSignalSpy(log, async () => {
      const reactor = new Reactor();
      reactor.addSystemEventTrigger("before", "startup", () => log.push("before startup"));
      reactor.addSystemEventTrigger("after", "startup", () => log.push("after startup"));
      reactor.addSystemEventTrigger("before", "shutdown", () => log.push("before shutdown"));
      reactor.addSystemEventTrigger("after", "shutdown", () => log.push("after shutdown"));
      reactor.callWhenRunning(() => reactor.callLater(0, () => reactor.stop()));
      await reactor.run();
      log.push("run() settled");
    });
    assert.deepEqual(log, [
      "before startup",
      "add SIGINT",
      "after startup",
      "before shutdown",
      "remove SIGINT",
      "after shutdown",
      "run() settled",
    ]);
  });

  test("Ctrl-C stops the reactor gracefully; a second one crashes it", async () => {
    const log: string[] = [];
    await withSignalSpy(log, async (listeners) => {
      const reactor = new Reactor();
      stopAfter(reactor, 5);
      const pressCtrlC = () => {
        log.push("Ctrl-C");
        for (const listener of [...listeners]) listener();
      };
      // A before-shutdown trigger that never finishes: only a crash ends the loop.
      reactor.addSystemEventTrigger("before", "shutdown", () => {
        log.push("before shutdown");
        reactor.callLater(0, pressCtrlC);
        return new Promise(() => {});
      });
      reactor.addSystemEventTrigger("after", "shutdown", () => log.push("never"));
      reactor.callWhenRunning(() => reactor.callLater(0, pressCtrlC));
      await reactor.run();
      log.push(`run() settled, running=${reactor.running}`);
    });
    assert.deepEqual(log, [
      "add SIGINT",
      "Ctrl-C",
      "before shutdown",
      "Ctrl-C",
      "remove SIGINT",
      "run() settled, running=false",
    ]);
  });

  test("after a crash, the next run takes SIGINT over again", async () => {
    const log: string[] = [];
    await withSignalSpy(log, async () => {
      const reactor = new Reactor();
      reactor.callWhenRunning(() => reactor.crash());
      await reactor.run();
      log.push("crashed");
      reactor.callWhenRunning(() => reactor.stop());
      await reactor.run();
      log.push("stopped");
    });
    assert.deepEqual(log, [
      "add SIGINT",
      "remove SIGINT",
      "crashed",
      "add SIGINT",
      "remove SIGINT",
      "stopped",
    ]);
  });

  test("iterate() runs what is due, and waits for a descriptor at most `delay` seconds", async () => {
    const reactor = new Reactor();
    const ran: string[] = [];
    reactor.callLater(0, () => ran.push("due"));
    const later = reactor.callLater(60, () => ran.push("not due"));
    const turn = reactor.iterate();
    assert.ok(turn instanceof Promise, "a turn waits, so it is a promise");
    assert.deepEqual(ran, ["due"], "due calls run before the wait");
    await turn;
    await reactor.iterate(0);
    assert.deepEqual(ran, ["due"]);
    assert.equal(later.active(), true);
    assert.equal(reactor.running, false, "iterate() does not start the reactor");
    // A call from outside the loop (a timer) while the turn waits ends the wait early.
    const started = performance.now();
    setTimeout(() => reactor.callLater(0, () => ran.push("from a timer")), 20);
    await reactor.iterate(30);
    assert.ok(performance.now() - started < 15_000, "woken long before the 30 s delay");
    await reactor.iterate();
    assert.deepEqual(ran, ["due", "from a timer"]);
    later.cancel();
    await assert.rejects(reactor.iterate(-1), RangeError);
  });

  test("removing a before trigger that already ran, while its event fires: one warning", async () => {
    const { reactor, reports } = quietReactor(Reactor);
    const warnings: string[] = [];
    reactor.writeWarning = (warning) => warnings.push(warning);
    const order: string[] = [];
    const first = reactor.addSystemEventTrigger("before", "shutdown", () => order.push("first"));
    reactor.addSystemEventTrigger("before", "shutdown", () => {
      order.push("second");
      reactor.removeSystemEventTrigger(first); // already ran: a warning, not an error
      reactor.removeSystemEventTrigger(first); // warned once is enough
      reactor.removeSystemEventTrigger(third); // not run yet: removed
    });
    const third = reactor.addSystemEventTrigger("before", "shutdown", () => order.push("third"));
    reactor.addSystemEventTrigger("after", "shutdown", () => order.push("after"));
    reactor.callWhenRunning(() => reactor.stop());
    stopAfter(reactor, 3);
    await reactor.run();
    assert.deepEqual(order, ["first", "second", "after"]);
    assert.deepEqual(reports, [], "nothing thrown");
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(
      warnings[0],
      /^DeprecationWarning: .*"before shutdown" trigger that has already run/,
    );
    // Once the event has fired, a trigger that ran cannot be removed.
    assert.throws(() => reactor.removeSystemEventTrigger(first), /no such trigger/);
  });

  test("code after `await run()` runs once the loop has stopped", async () => {
    const reactor = new Reactor();
    const order: string[] = [];
    reactor.callLater(0.01, () => {
      order.push("stop");
      reactor.stop();
      order.push("stop returned");
    });
    reactor.addSystemEventTrigger("after", "shutdown", () => order.push("after shutdown"));
    await reactor.run();
    order.push("after run");
    assert.deepEqual(order, ["stop", "stop returned", "after shutdown", "after run"]);
  });

  // -- system event triggers -------------------------------------------------

  test("startup and shutdown triggers run in their phases", async () => {
    const reactor = new Reactor();
    const order: string[] = [];
    const note = (what: string) => () => order.push(`${what} running=${reactor.running}`);
    // Added out of order on purpose: the phase decides, then the order added.
    reactor.addSystemEventTrigger("after", "startup", note("after startup"));
    reactor.addSystemEventTrigger("during", "startup", note("during startup"));
    reactor.addSystemEventTrigger("before", "startup", note("before startup"));
    reactor.callWhenRunning(note("callWhenRunning"));
    reactor.addSystemEventTrigger("after", "shutdown", note("after shutdown"));
    reactor.addSystemEventTrigger("during", "shutdown", note("during shutdown"));
    reactor.addSystemEventTrigger("before", "shutdown", note("before shutdown"));
    reactor.addSystemEventTrigger("before", "shutdown", note("before shutdown 2"));
    reactor.callLater(0, () => reactor.stop());
    await reactor.run();
    assert.deepEqual(order, [
      "before startup running=false",
      "during startup running=true",
      "after startup running=true",
      "callWhenRunning running=true",
      "before shutdown running=true",
      "before shutdown 2 running=true",
      "during shutdown running=false",
      "after shutdown running=false",
    ]);
  });

  test("a before-shutdown trigger's promise delays the rest; the loop runs meanwhile", async () => {
    const reactor = new Reactor();
    const order: string[] = [];
    reactor.addSystemEventTrigger("before", "shutdown", () =>
      new Promise<void>((resolve) => {
        order.push("before: waiting");
        reactor.callLater(0.02, () => {
          order.push("timer during shutdown");
          resolve();
        });
      }));
    reactor.addSystemEventTrigger("during", "shutdown", () => order.push("during"));
    reactor.addSystemEventTrigger("after", "shutdown", () => order.push("after"));
    reactor.callWhenRunning(() => reactor.stop());
    await reactor.run();
    assert.deepEqual(order, ["before: waiting", "timer during shutdown", "during", "after"]);
  });

  test("a before-shutdown promise resolved from outside the loop ends it at once", async () => {
    const reactor = new Reactor();
    stopAfter(reactor, 10); // not reached: only a wake-up would notice the promise in time
    reactor.addSystemEventTrigger(
      "before",
      "shutdown",
      () => new Promise((resolve) => setTimeout(resolve, 30)),
    );
    reactor.callWhenRunning(() => reactor.stop());
    const start = performance.now();
    await reactor.run();
    assert.ok(performance.now() - start < 5000);
  });

  test("removeSystemEventTrigger, and errors in triggers", async () => {
    const { reactor, reports } = quietReactor(Reactor);
    const order: string[] = [];
    const removed = reactor.addSystemEventTrigger(
      "before",
      "shutdown",
      () => order.push("removed"),
    );
    reactor.addSystemEventTrigger("before", "shutdown", () => {
      throw new Error("trigger fails");
    });
    reactor.addSystemEventTrigger("after", "shutdown", () => order.push("after"));
    reactor.removeSystemEventTrigger(removed);
    assert.throws(() => reactor.removeSystemEventTrigger(removed), /no such trigger/);
    assert.throws(
      () => reactor.addSystemEventTrigger("sometime" as "before", "startup", () => {}),
      /unknown phase "sometime"/,
    );
    reactor.callWhenRunning(() => reactor.stop());
    await reactor.run();
    assert.deepEqual(order, ["after"]);
    assert.equal(reports.length, 1);
    assert.match(reports[0], /Error: trigger fails/);
  });

  test("other system events fire by hand", () => {
    const reactor = new Reactor();
    const order: string[] = [];
    reactor.addSystemEventTrigger("after", "persist", (word: string) => order.push(word), "saved");
    reactor.addSystemEventTrigger("before", "persist", () => order.push("saving"));
    reactor.fireSystemEvent("persist");
    reactor.fireSystemEvent("persist"); // triggers are used up by firing
    assert.deepEqual(order, ["saving", "saved"]);
  });

  test("crash() ends the loop at once, without the shutdown triggers", async () => {
    const reactor = new Reactor();
    const order: string[] = [];
    reactor.addSystemEventTrigger("before", "shutdown", () => order.push("shutdown"));
    reactor.callLater(0, () => {
      reactor.crash();
      order.push("crashed");
    });
    reactor.callLater(0.02, () => order.push("never"));
    await reactor.run();
    assert.deepEqual(order, ["crashed"]);
    assert.equal(reactor.running, false);
  });

  test("crash() from outside the loop wakes it", async () => {
    const reactor = new Reactor();
    stopAfter(reactor, 10);
    setTimeout(() => reactor.crash(), 20);
    const start = performance.now();
    await reactor.run();
    assert.ok(performance.now() - start < 5000);
  });
}

Deno.test("formatUnhandledError: a report for anything thrown, never an exception", () => {
  const hostile = new Proxy({}, {
    get: () => {
      throw new Error("no");
    },
    getPrototypeOf: () => {
      throw new Error("no");
    },
  });
  const badStack = new Error("stackless");
  Object.defineProperty(badStack, "stack", {
    get: () => {
      throw new Error("no stack");
    },
  });
  const values: unknown[] = [
    Object.create(null),
    hostile,
    badStack,
    Symbol("s"),
    null,
    undefined,
    { toString: () => "a thing" },
  ];
  for (const value of values) {
    const report = formatUnhandledError(value, "PoetrySocket");
    assert.match(report, /^\[PoetrySocket\] Unhandled Error\n./);
  }
  assert.equal(
    formatUnhandledError(Object.create(null)),
    "Unhandled Error\nUncaught value: [Object: null prototype] {}",
  );
  assert.equal(
    formatUnhandledError({ toString: () => "a thing" }),
    "Unhandled Error\nUncaught value: a thing",
  );
  assert.match(
    formatUnhandledError(badStack),
    /^Unhandled Error\n(Error: stackless|Uncaught value: Error: stackless)/,
  );
});
