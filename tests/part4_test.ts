/**
 * Part 4's two reactor clients, `twisted-client/get-poetry.ts` (PoetrySocket) and
 * `twisted-client/get-poetry-broken.ts` (BrokenPoetrySocket), each on the select and on
 * the poll reactor: one suite run per combination, against slow poetry servers with
 * short delays. What is checked: the exact output lines; the working client
 * interleaving the three downloads; the broken client printing each poem whole, and
 * only once it is complete; the total times against the servers' (ratios); characters
 * split across reads; a server that resets its connection mid-poem; a port with no
 * server; `--help` and usage errors.
 *
 * Run: deno test -N -R --allow-run --allow-env --allow-sys tests/part4_test.ts
 */

import assert from "node:assert/strict";
import { parseDuration } from "../lib/duration.ts";
import { closedPort, repoPath, runScript, type ServerSpec } from "../tools/process.ts";
import {
  charactersOf,
  DURATION,
  HAS_PYTHON,
  lastSendAt,
  serverSeconds,
  spawnTimed,
  startResetServer,
  startTimedServers,
} from "./part4_helpers.ts";
import { REACTORS } from "./helpers/reactors.ts";

const CLIENTS = [
  { script: "twisted-client/get-poetry.ts", broken: false },
  { script: "twisted-client/get-poetry-broken.ts", broken: true },
];

const DELAY = 0.01;
const THREE: ServerSpec[] = [
  { poetryFile: "poetry/ecstasy.txt", numBytes: 30, delay: DELAY },
  { poetryFile: "poetry/fascination.txt", delay: DELAY },
  { poetryFile: "poetry/science.txt", delay: DELAY },
];
const MULTIBYTE = "tests/fixtures/part4_multibyte.txt";

const sizeOf = (file: string) => Deno.statSync(repoPath(file)).size;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The lines a client prints after the reactor stops: one per task, then the total. */
function assertSummary(lines: string[], characters: number[]): number {
  const summary = lines.slice(-characters.length - 1);
  assert.deepEqual(
    summary.slice(0, -1),
    characters.map((count, i) => `Task ${i + 1}: ${count} characters of poetry`),
  );
  const total = new RegExp(`^Got ${characters.length} poems in (${DURATION})$`).exec(
    summary[summary.length - 1],
  );
  assert.ok(total, summary[summary.length - 1]);
  return parseDuration(total[1]);
}

/** One `got` line: the task, the byte count, the address. */
function parseGot(line: string): { task: number; bytes: number; address: string } | null {
  const match = /^Task (\d+): got (\d+) bytes of poetry from (\S+)$/.exec(line);
  return match ? { task: Number(match[1]), bytes: Number(match[2]), address: match[3] } : null;
}

for (const { script, broken } of CLIENTS) {
  for (const [reactor] of REACTORS) {
    Deno.test(`${script} --reactor ${reactor}`, async (t) => {
      const run = (ports: number[]) =>
        spawnTimed(script, ["--reactor", reactor, ...ports.map(String)]);

      await t.step("three slow servers: output, order, and time", async () => {
        const servers = await startTimedServers(THREE);
        try {
          const client = run(servers.map((server) => server.port));
          const outcome = await client.process.finished(30_000);
          assert.equal(outcome.stderr, "");
          assert.equal(outcome.code, 0);
          const lines = outcome.lines.map((line) => line.text);
          const sizes = THREE.map((spec) => sizeOf(spec.poetryFile));
          const addresses = servers.map((server) => `127.0.0.1:${server.port}`);
          const total = assertSummary(lines, THREE.map((spec) => charactersOf(spec.poetryFile)));
          const body = outcome.lines.slice(0, -4);
          const poemDone = servers.map(lastSendAt); // each server's last chunk went then
          const expected = THREE.map(serverSeconds); // 1.01, 0.63, 0.66 s

          if (broken) {
            // One line per task, each a whole poem (in the order the reactor found the
            // sockets ready: usually the order given, but not necessarily).
            const tasks = body.map((line) => parseGot(line.text)?.task ?? 0);
            assert.deepEqual(
              [...tasks].sort(),
              [1, 2, 3],
              body.map((line) => line.text).join("\n"),
            );
            for (const [index, line] of body.entries()) {
              const i = tasks[index] - 1;
              assert.equal(
                line.text,
                `Task ${i + 1}: got ${sizes[i]} bytes of poetry from ${addresses[i]}`,
              );
              // Printed only once the server had sent the whole poem.
              assert.ok(
                client.clock(line) > poemDone[i],
                `task ${i + 1}'s line came ${(poemDone[i] - client.clock(line)).toFixed(0)} ms ` +
                  `before its server sent the poem's last chunk`,
              );
            }
            // Nothing at all before the first poem is complete: not one line in the time
            // that poem's server needs, counted from the client's start.
            const first = tasks[0] - 1;
            assert.ok(
              body[0].at >= 0.9 * expected[first] * 1000,
              `the first line came at ${body[0].at.toFixed(0)} ms; its poem takes ` +
                `${(expected[first] * 1000).toFixed(0)} ms`,
            );
            // Still quicker than one poem after another: while the client blocked on the
            // first server, the kernel kept the other servers' bytes.
            const sum = expected.reduce((a, b) => a + b);
            assert.ok(
              total < 0.75 * sum && total >= 0.95 * Math.max(...expected),
              `total ${total} s; the servers need ${expected.join(", ")} s (sum ${sum})`,
            );
          } else {
            const received = [0, 0, 0];
            const order: number[] = [];
            const finishedAt: number[] = [];
            for (const [index, { text }] of body.entries()) {
              const got = parseGot(text);
              const done = /^Task (\d+) finished$/.exec(text);
              if (got) {
                assert.equal(got.address, addresses[got.task - 1], text);
                assert.equal(finishedAt[got.task - 1], undefined, `a read after: ${text}`);
                received[got.task - 1] += got.bytes;
                order.push(got.task);
              } else if (done) {
                const task = Number(done[1]);
                assert.equal(finishedAt[task - 1], undefined, `twice: ${text}`);
                finishedAt[task - 1] = index;
              } else {
                assert.fail(`unexpected line: ${text}`);
              }
            }
            assert.deepEqual(received, sizes, "the reads add up to each poem");
            assert.equal(finishedAt.filter((index) => index !== undefined).length, 3);
            // Interleaved: the reads switch between the tasks again and again, and each
            // task's first read comes long before its server has sent the whole poem.
            let switches = 0;
            for (let i = 1; i < order.length; i++) if (order[i] !== order[i - 1]) switches++;
            assert.ok(switches >= 60, `${switches} switches in ${order.length} reads`);
            for (let task = 1; task <= 3; task++) {
              const first = body.find((line) => parseGot(line.text)?.task === task);
              assert.ok(first && client.clock(first) < poemDone[task - 1], `task ${task}`);
            }
            // All at once: the total is about the slowest server's time.
            const slowest = Math.max(...expected);
            assert.ok(
              total >= 0.95 * slowest && total < 1.5 * slowest,
              `total ${total} s; the slowest server needs ${slowest} s`,
            );
          }
        } finally {
          await Promise.all(servers.map((server) => server.stop()));
        }
      });

      await t.step("characters split across reads are counted once", async () => {
        const spec = { poetryFile: MULTIBYTE, numBytes: 1, delay: 0.001 };
        const [server] = await startTimedServers([spec]);
        try {
          const outcome = await run([server.port]).process.finished(30_000);
          assert.equal(outcome.stderr, "");
          assert.equal(outcome.code, 0);
          const lines = outcome.lines.map((line) => line.text);
          const bytes = Deno.readFileSync(repoPath(MULTIBYTE));
          const characters = charactersOf(MULTIBYTE);
          assert.ok(characters < bytes.length - 50, "the fixture is mostly multi-byte");
          assertSummary(lines, [characters]);
          const reads = lines.map(parseGot).filter((got) => got !== null);
          assert.equal(reads.reduce((sum, got) => sum + got.bytes, 0), bytes.length);
          if (broken) {
            assert.equal(reads.length, 1);
          } else {
            // Show that characters really were split: some read ended inside one (the
            // next byte is a UTF-8 continuation byte, 10xxxxxx).
            let offset = 0;
            let splits = 0;
            for (const got of reads.slice(0, -1)) {
              offset += got.bytes;
              if ((bytes[offset] & 0xc0) === 0x80) splits++;
            }
            assert.ok(splits >= 10, `${splits} characters split in ${reads.length} reads`);
          }
        } finally {
          await server.stop();
        }
      });

      await t.step({
        name: "a server that resets the connection mid-poem: that task is lost, the rest finish",
        ignore: !HAS_PYTHON,
        fn: async () => {
          const sent = 1000;
          const others: ServerSpec[] = [
            { poetryFile: "poetry/fascination.txt", delay: 0.005 },
            { poetryFile: "poetry/science.txt", delay: 0.005 },
          ];
          const resetter = await startResetServer("poetry/ecstasy.txt", sent, 0.15);
          const servers = await startTimedServers(others);
          try {
            const ports = [servers[0].port, resetter.port, servers[1].port];
            const outcome = await run(ports).process.finished(30_000);
            assert.equal(outcome.stderr, "", "no stack trace, no error report");
            assert.equal(outcome.code, 0);
            const lines = outcome.lines.map((line) => line.text);
            assert.deepEqual(
              lines.filter((line) => line.startsWith("Task 2: lost")),
              [`Task 2: lost after ${sent} bytes: [Errno 104] Connection reset by peer`],
            );
            assertSummary(lines, [
              charactersOf(others[0].poetryFile),
              charactersOf("poetry/ecstasy.txt", sent),
              charactersOf(others[1].poetryFile),
            ]);
            const gotBytes = (task: number) =>
              lines.map(parseGot).filter((got) => got?.task === task)
                .reduce((sum, got) => sum + (got?.bytes ?? 0), 0);
            assert.equal(gotBytes(1), sizeOf(others[0].poetryFile));
            assert.equal(gotBytes(3), sizeOf(others[1].poetryFile));
            if (broken) {
              assert.equal(gotBytes(2), 0, "the broken client prints a poem only when whole");
            } else {
              assert.equal(gotBytes(2), sent);
              assert.deepEqual(
                lines.filter((line) => line.endsWith(" finished")).sort(),
                ["Task 1 finished", "Task 3 finished"],
              );
            }
          } finally {
            await Promise.all([resetter.stop(), ...servers.map((server) => server.stop())]);
          }
        },
      });

      await t.step("a port with no server: one line on stderr, exit 1", async () => {
        const port = closedPort();
        const outcome = await run([port]).process.finished(30_000);
        const name = script.slice(script.lastIndexOf("/") + 1);
        assert.equal(
          outcome.stderr,
          `${name}: error: cannot get poetry from 127.0.0.1:${port}: [Errno 111] Connection refused\n`,
        );
        assert.equal(outcome.code, 1);
        assert.deepEqual(outcome.lines, []);
      });
    });
  }

  Deno.test(`${script}: --help, and usage errors exit 2`, async (t) => {
    const name = script.slice(script.lastIndexOf("/") + 1);
    await t.step("--help", async () => {
      const outcome = await runScript(script, ["--help"]);
      assert.equal(outcome.code, 0);
      assert.equal(outcome.stderr, "");
      const text = outcome.lines.map((line) => line.text).join("\n");
      assert.match(text, new RegExp(`^usage: ${escape(name)} \\[--reactor select\\|poll\\]`));
      assert.match(text, /--reactor NAME/);
      assert.match(text, new RegExp(escape(`deno run -N -R ${script} 10000 10001 10002`)));
    });
    const mistakes: Array<[string[], string]> = [
      [["--reactor", "bogus", "10000"], "No such reactor: bogus (choose select or poll)."],
      [[], "Provide at least one server address."],
      [["--reactor", "poll"], "Provide at least one server address."],
    ];
    for (const [args, message] of mistakes) {
      await t.step(args.join(" ") || "(no arguments)", async () => {
        const outcome = await runScript(script, args);
        assert.equal(outcome.code, 2);
        assert.equal(outcome.stderr, `${name}: error: ${message}\n`);
        assert.deepEqual(outcome.lines, []);
      });
    }
    await t.step("an unknown option", async () => {
      const outcome = await runScript(script, ["--bogus", "10000"]);
      assert.equal(outcome.code, 2);
      assert.match(outcome.stderr, new RegExp(`^${escape(name)}: error: .*--bogus.*\\n$`));
    });
  });
}
