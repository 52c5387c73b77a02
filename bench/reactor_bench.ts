/**
 * The reactor's figures, printed as a Markdown section:
 *
 * 1. `callLater`: 100,000 calls scheduled then cancelled, and 100,000 fired,
 *    in µs per call, against `setTimeout`/`clearTimeout` in the same run.
 * 2. Timer lateness on an idle reactor: 1,000 timers one after another, each
 *    1-5 ms ahead; how late each runs (median, 99th percentile), against
 *    `setTimeout` measured the same way. Target: median under 1 ms.
 * 3. One idle turn of the loop with 1,000 registered readers that never
 *    become ready, select against poll (and with no readers, for scale).
 *
 * Run: `deno run -A bench/reactor_bench.ts` (prints the section; `deno task bench`
 * collects it into bench/RESULTS.md).
 *
 * @module
 */

import {
  fixed,
  goalLine,
  IdleReader,
  median,
  openConnectedPairs,
  percentile,
  sectionOpening,
} from "./lib.ts";
import type { Socket } from "../lib/socket/mod.ts";
import type { ReactorBase } from "../lib/reactor/base.ts";
import { PollReactor } from "../lib/reactor/poll.ts";
import { SelectReactor } from "../lib/reactor/select.ts";
import { fireAllUs, scheduleThenCancelUs } from "./timers.ts";

const CALLS = 100_000;
const RUNS = 5;
const lines: string[] = [];
const say = (line = "") => lines.push(line);
const noop = () => {};

// 1. callLater ----------------------------------------------------------------------------

function setTimeoutAndClear(): number {
  const started = performance.now();
  const timers = new Array(CALLS);
  for (let index = 0; index < CALLS; index++) timers[index] = setTimeout(noop, 1000 + index * 1e-3);
  for (let index = 0; index < CALLS; index++) clearTimeout(timers[index]);
  return (performance.now() - started) * 1000 / CALLS;
}

async function setTimeoutFireAll(): Promise<number> {
  const { promise, resolve } = Promise.withResolvers<void>();
  let left = CALLS;
  const done = () => {
    if (--left === 0) resolve();
  };
  const started = performance.now();
  for (let index = 0; index < CALLS; index++) setTimeout(done, 0);
  await promise;
  return (performance.now() - started) * 1000 / CALLS;
}

async function callLaterCost(): Promise<void> {
  const figures = {
    cancel: [] as number[],
    clear: [] as number[],
    fire: [] as number[],
    timeout: [] as number[],
  };
  for (let run = 0; run < RUNS; run++) {
    figures.cancel.push(scheduleThenCancelUs(SelectReactor, CALLS));
    figures.clear.push(setTimeoutAndClear());
    figures.fire.push(await fireAllUs(SelectReactor, CALLS));
    figures.timeout.push(await setTimeoutFireAll());
  }
  say(`### callLater: ${CALLS.toLocaleString("en")} calls`);
  say();
  say(`Microseconds per call, median of ${RUNS} runs. "Fired" counts from the first`);
  say("`callLater` to the last call run (the reactor runs them all in one turn).");
  say();
  say("| what | reactor µs/call | setTimeout µs/call | reactor / setTimeout |");
  say("|---|---|---|---|");
  const row = (what: string, ours: number[], theirs: number[]) =>
    say(
      `| ${what} | ${fixed(median(ours), 2)} | ${fixed(median(theirs), 2)} | ${
        fixed(median(ours) / median(theirs), 2)
      }x |`,
    );
  row("scheduled, then cancelled", figures.cancel, figures.clear);
  row("scheduled with delay 0, all fired", figures.fire, figures.timeout);
  say();
}

// 2. Timer lateness ---------------------------------------------------------------------------

const TIMERS = 1000;

/** A deterministic spread of delays, 1 to 5 ms. */
function delayOf(index: number): number {
  return 1 + ((index * 37) % 41) / 10;
}

async function reactorLateness(Reactor: new () => ReactorBase): Promise<number[]> {
  const reactor = new Reactor();
  const lateness: number[] = [];
  let index = 0;
  const next = () => {
    if (index === TIMERS) {
      reactor.stop();
      return;
    }
    const call = reactor.callLater(delayOf(index++) / 1000, () => {
      lateness.push((reactor.seconds() - call.getTime()) * 1000);
      next();
    });
  };
  reactor.callWhenRunning(next);
  await reactor.run();
  return lateness;
}

async function setTimeoutLateness(): Promise<number[]> {
  const lateness: number[] = [];
  for (let index = 0; index < TIMERS; index++) {
    const delay = delayOf(index);
    const due = performance.now() + delay;
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        lateness.push(performance.now() - due);
        resolve();
      }, delay)
    );
  }
  return lateness;
}

async function timerLateness(): Promise<void> {
  const select = await reactorLateness(SelectReactor);
  const poll = await reactorLateness(PollReactor);
  const plain = await setTimeoutLateness();
  say(`### Timer lateness on an idle reactor: ${TIMERS.toLocaleString("en")} timers`);
  say();
  say("Each timer is scheduled when the previous one runs, 1 to 5 ms ahead; lateness is");
  say("when it ran minus when it was due. Target: median under 1 ms.");
  say();
  say("| timers on | median ms | 99th percentile ms | max ms |");
  say("|---|---|---|---|");
  for (
    const [name, figures] of [["select reactor", select], ["poll reactor", poll], [
      "plain setTimeout",
      plain,
    ]] as const
  ) {
    say(
      `| ${name} | ${fixed(median(figures), 3)} | ${fixed(percentile(figures, 0.99), 3)} | ${
        fixed(Math.max(...figures), 3)
      } |`,
    );
  }
  say();
  for (const [name, figures] of [["select", select], ["poll", poll]] as const) {
    const ratio = median(figures) / median(plain);
    say(goalLine(
      `timers on the ${name} reactor: median lateness under 1 ms`,
      `${fixed(median(figures), 3)} ms (${fixed(ratio, 2)}x plain setTimeout's)`,
      median(figures) < 1,
    ));
    say();
  }
}

// 3. One idle turn with many readers --------------------------------------------------------

/** Microseconds per turn of the loop: a call that reschedules itself at 0, for `turns` turns. */
async function turnCost(
  Reactor: new () => ReactorBase,
  readers: Socket[],
  turns: number,
): Promise<number> {
  const reactor = new Reactor();
  for (const socket of readers) reactor.addReader(new IdleReader(socket));
  let left = turns;
  let started = 0;
  const spin = () => {
    if (left === turns) started = performance.now();
    if (--left === 0) {
      reactor.stop();
      return;
    }
    reactor.callLater(0, spin);
  };
  reactor.callWhenRunning(spin);
  await reactor.run();
  const micros = (performance.now() - started) * 1000 / (turns - 1);
  reactor.removeAll();
  return micros;
}

async function idleTurn(): Promise<void> {
  const turns = 2000;
  const sockets = openConnectedPairs(1000);
  const rows: Array<[string, number, number]> = [];
  try {
    for (const [label, readers] of [["0", []], ["1,000", sockets.clients]] as const) {
      const select: number[] = [];
      const poll: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        select.push(await turnCost(SelectReactor, [...readers], turns));
        poll.push(await turnCost(PollReactor, [...readers], turns));
      }
      rows.push([label, median(select), median(poll)]);
    }
  } finally {
    sockets.close();
  }
  say("### One idle turn of the loop, select against poll");
  say();
  say(`A call that reschedules itself with \`callLater(0)\`, ${turns} turns: each turn runs`);
  say("the due calls, then waits with a timeout of 0 on every registered reader (none ready).");
  say(`Microseconds per turn, median of ${RUNS} runs.`);
  say();
  say("| idle readers | select reactor µs/turn | poll reactor µs/turn |");
  say("|---|---|---|");
  for (const [label, select, poll] of rows) {
    say(`| ${label} | ${fixed(select, 1)} | ${fixed(poll, 1)} |`);
  }
  say();
}

const SECTION_TITLE = "The reactor: the cost of callLater, timer lateness, one idle turn";
lines.push(...sectionOpening(SECTION_TITLE, import.meta.url));
await callLaterCost();
await timerLateness();
await idleTurn();
console.log(lines.join("\n"));
