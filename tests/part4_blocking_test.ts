/**
 * The broken client of Part 4 really blocks: while its `doRead` waits in a blocking
 * `recv`, a `callLater` timer that is due does not fire; it fires right after the poem
 * is complete. The working client's timers fire on time while it downloads. On both
 * reactors, through tests/fixtures/part4_timer.ts (timers due every 0.05 s and one
 * download from a slow server that takes about 0.5 s).
 *
 * Run: deno test -N -R --allow-run --allow-env --allow-sys tests/part4_blocking_test.ts
 */

import assert from "node:assert/strict";
import { repoPath, runScript, type ServerSpec } from "../tools/process.ts";
import { serverSeconds, startTimedServers } from "./part4_helpers.ts";
import { REACTORS } from "./helpers/reactors.ts";

// 29 chunks of 20 bytes, 0.017 s apart: about 0.49 s.
const SLOW: ServerSpec = { poetryFile: "poetry/alla_sera.txt", numBytes: 20, delay: 0.017 };
const POEM_SECONDS = serverSeconds(SLOW);

interface Timeline {
  /** Each timer that fired: when it was due and when it ran, seconds since the start. */
  timers: Array<{ due: number; fired: number; index: number }>;
  /** When the poem ended, and the index of that line. */
  poemEnded: { at: number; index: number; bytes: number };
  /** The client's own `got` lines, by index. */
  reads: number[];
}

async function timeline(kind: string, reactor: string): Promise<Timeline> {
  const [server] = await startTimedServers([SLOW]);
  try {
    const outcome = await runScript("tests/fixtures/part4_timer.ts", [
      kind,
      reactor,
      String(server.port),
    ]);
    assert.equal(outcome.stderr, "");
    assert.equal(outcome.code, 0);
    const result: Timeline = { timers: [], poemEnded: { at: NaN, index: -1, bytes: 0 }, reads: [] };
    for (const [index, { text }] of outcome.lines.entries()) {
      const timer = /^timer due ([\d.]+) fired at ([\d.]+)$/.exec(text);
      const ended = /^poem ended at ([\d.]+) after (\d+) bytes$/.exec(text);
      if (timer) result.timers.push({ due: Number(timer[1]), fired: Number(timer[2]), index });
      else if (ended) result.poemEnded = { at: Number(ended[1]), index, bytes: Number(ended[2]) };
      else if (/^Task 1: got \d+ bytes of poetry from /.test(text)) result.reads.push(index);
    }
    assert.ok(result.poemEnded.index >= 0, "the poem never ended");
    assert.equal(result.poemEnded.bytes, Deno.statSync(repoPath(SLOW.poetryFile)).size);
    return result;
  } finally {
    await server.stop();
  }
}

for (const [reactor] of REACTORS) {
  Deno.test(`${reactor} reactor: a blocking doRead holds back a due timer until the poem is complete`, async () => {
    const { timers, poemEnded, reads } = await timeline("broken", reactor);
    const poem = poemEnded.at;
    assert.ok(poem >= 0.9 * POEM_SECONDS, `the poem took ${poem} s, the server ${POEM_SECONDS} s`);
    assert.equal(reads.length, 1, "one read: the whole poem");
    const first = timers[0];
    assert.ok(first, "no timer fired");
    assert.equal(first.due, 0.05);
    // The first timer was due long before the poem ended, but ran only after it...
    assert.ok(first.index > poemEnded.index, "the first timer fired before the poem ended");
    assert.ok(
      first.fired - first.due >= 0.7 * poem,
      `due at ${first.due} s, fired at ${first.fired} s, the poem took ${poem} s`,
    );
    // ...right after it, with every other timer that fell due meanwhile.
    assert.ok(first.fired - poem < 0.2 * poem, `fired at ${first.fired}, poem ended at ${poem}`);
    const overdue = timers.filter((timer) => timer.due < poem - 0.01);
    assert.ok(overdue.length >= 5, `only ${overdue.length} timers were due during the poem`);
    for (const timer of overdue) {
      assert.ok(timer.index > poemEnded.index, `timer due ${timer.due} fired during the poem`);
    }
  });

  Deno.test(`${reactor} reactor: with non-blocking reads the timers fire on time during the download`, async () => {
    const { timers, poemEnded, reads } = await timeline("working", reactor);
    const poem = poemEnded.at;
    assert.ok(poem >= 0.9 * POEM_SECONDS, `the poem took ${poem} s, the server ${POEM_SECONDS} s`);
    const during = timers.filter((timer) => timer.index < poemEnded.index);
    // Every timer due before the poem ended fired before it did...
    assert.ok(
      during.length >= Math.floor((poem - 0.1) / 0.05),
      `${during.length} timers fired during a ${poem} s download`,
    );
    // ...each close to its time (late by far less than the download)...
    for (const timer of during) {
      assert.ok(
        timer.fired - timer.due < 0.2 * poem,
        `timer due ${timer.due} s fired at ${timer.fired} s`,
      );
    }
    // ...while the reads went on around them: timers and reads alternate.
    const between = during.filter((timer) =>
      reads.some((index) => index < timer.index) && reads.some((index) => index > timer.index)
    );
    assert.ok(
      between.length >= 3,
      `only ${between.length} of ${during.length} timers fired between two reads`,
    );
    assert.equal(timers[0].due, 0.05);
    assert.ok(
      timers[0].fired < 0.5 * poem,
      `first timer at ${timers[0].fired} s, the poem took ${poem} s`,
    );
  });
}
