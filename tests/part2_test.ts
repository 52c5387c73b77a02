/**
 * Part 2's experiment with short delays: three slow poetry servers, the
 * blocking client and the asynchronous client against them.
 */
import assert from "node:assert/strict";
import {
  repoPath,
  runScript,
  type ServerSpec,
  startServers,
  type TimedLine,
} from "../tools/process.ts";
import { withDeadline } from "./helpers/deadline.ts";

const DELAY = 0.01;
const SPECS: ServerSpec[] = [
  { poetryFile: "poetry/ecstasy.txt", numBytes: 30, delay: DELAY },
  { poetryFile: "poetry/fascination.txt", delay: DELAY },
  { poetryFile: "poetry/science.txt", delay: DELAY },
];
const SIZES = SPECS.map((spec) => Deno.statSync(repoPath(spec.poetryFile)).size);
const DURATION = String.raw`(\d+):(\d\d):(\d\d)(?:\.(\d{6}))?`;

/** Microseconds in a duration printed as Python prints a timedelta. */
function microseconds(text: string): number {
  const match = new RegExp(`^${DURATION}$`).exec(text);
  assert.ok(match, `not a duration: ${text}`);
  const [, hours, minutes, seconds, fraction] = match;
  return ((Number(hours) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1e6 +
    Number(fraction ?? 0);
}

function texts(lines: TimedLine[]): string[] {
  return lines.map((line) => line.text);
}

Deno.test("Part 2: the blocking and the asynchronous clients against three slow servers", async (t) => {
  const servers = await startServers(SPECS);
  const addresses = servers.map((server) => `127.0.0.1:${server.port}`);
  const ports = servers.map((server) => String(server.port));
  let blockingMicroseconds = 0;
  let asyncMicroseconds = 0;
  try {
    await t.step("the blocking client gets one poem after another", async () => {
      const outcome = await runScript("blocking-client/get-poetry.ts", ports);
      assert.equal(outcome.stderr, "");
      assert.equal(outcome.code, 0);
      const lines = texts(outcome.lines);
      assert.equal(lines.length, 7, lines.join("\n"));
      let sum = 0;
      for (let task = 1; task <= 3; task++) {
        const address = addresses[task - 1];
        assert.equal(lines[2 * task - 2], `Task ${task}: get poetry from: ${address}`);
        const match = new RegExp(
          `^Task ${task}: got (\\d+) bytes of poetry from ${address} in (${DURATION})$`,
        ).exec(lines[2 * task - 1]);
        assert.ok(match, lines[2 * task - 1]);
        assert.equal(Number(match[1]), SIZES[task - 1]);
        sum += microseconds(match[2]);
      }
      const total = new RegExp(`^Got 3 poems in (${DURATION})$`).exec(lines[6]);
      assert.ok(total, lines[6]);
      blockingMicroseconds = microseconds(total[1]);
      assert.equal(blockingMicroseconds, sum, "the total is the sum of the tasks' times");
    });

    await t.step("the asynchronous client gets all three at once", async () => {
      const outcome = await runScript("async-client/get-poetry.ts", ports);
      assert.equal(outcome.stderr, "");
      assert.equal(outcome.code, 0);
      const lines = texts(outcome.lines);
      const summary = lines.slice(-4);
      assert.deepEqual(
        summary.slice(0, 3),
        SIZES.map((size, i) => `Task ${i + 1}: ${size} bytes of poetry`),
      );
      const total = new RegExp(`^Got 3 poems in (${DURATION})$`).exec(summary[3]);
      assert.ok(total, summary[3]);
      asyncMicroseconds = microseconds(total[1]);

      const received = [0, 0, 0];
      const order: number[] = []; // the task of each batch, in the order printed
      const finished: number[] = [];
      for (const line of lines.slice(0, -4)) {
        const got = /^Task (\d): got (\d+) bytes of poetry from (\S+)$/.exec(line);
        const done = /^Task (\d) finished$/.exec(line);
        if (got) {
          const task = Number(got[1]);
          assert.ok(!finished.includes(task), `a batch after task ${task} finished`);
          assert.equal(got[3], addresses[task - 1]);
          received[task - 1] += Number(got[2]);
          order.push(task);
        } else if (done) {
          finished.push(Number(done[1]));
        } else {
          assert.fail(`unexpected line: ${line}`);
        }
      }
      assert.deepEqual(received, SIZES, "the batches add up to each poem's size");
      assert.deepEqual([...finished].sort(), [1, 2, 3]);
      // The tasks interleave: the reads switch from one server to another
      // again and again, instead of one server's poem after another's.
      let switches = 0;
      for (let i = 1; i < order.length; i++) if (order[i] !== order[i - 1]) switches++;
      assert.ok(
        switches >= 60,
        `only ${switches} switches between tasks in ${order.length} batches`,
      );
      // Every task gets batches before any other task has finished.
      const firstFinished = lines.findIndex((line) => line.endsWith(" finished"));
      for (let task = 1; task <= 3; task++) {
        const first = lines.findIndex((line) => line.startsWith(`Task ${task}: got `));
        assert.ok(
          first >= 0 && first < firstFinished,
          `task ${task} started only after a task finished`,
        );
      }
    });

    await t.step("blocking time / async time is near sum / max of the servers' times", () => {
      // Each server needs (chunks x delay): 101, 63 and 66 chunks.
      const chunks = SPECS.map((spec, i) => Math.ceil(SIZES[i] / (spec.numBytes ?? 10)));
      const expected = chunks.reduce((a, b) => a + b, 0) / Math.max(...chunks); // about 2.28
      const ratio = blockingMicroseconds / asyncMicroseconds;
      assert.ok(
        ratio > expected * 0.75 && ratio < expected * 1.25,
        `blocking ${blockingMicroseconds} µs / async ${asyncMicroseconds} µs = ${ratio}, expected about ${expected}`,
      );
    });
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }

  const serverLines = servers.map((server) => texts(server.process.lines));
  await t.step("each server greeted both clients and sent its poem in chunks", () => {
    for (const [i, lines] of serverLines.entries()) {
      const numBytes = SPECS[i].numBytes ?? 10;
      const greetings = lines.filter((line) =>
        /^Somebody at 127\.0\.0\.1:\d+ wants poetry!$/.test(line)
      );
      assert.equal(greetings.length, 2, lines.join("\n"));
      const sends = lines.filter((line) => line.startsWith("Sending "));
      const chunks = Math.ceil(SIZES[i] / numBytes);
      assert.equal(sends.length, 2 * chunks);
      assert.equal(sends[0], `Sending ${numBytes} bytes`);
      assert.equal(sends[chunks - 1], `Sending ${SIZES[i] - (chunks - 1) * numBytes} bytes`);
    }
  });
});

/** Reads a connection to its end, as one byte array. */
async function readAll(port: number): Promise<Uint8Array> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const bytes = new Uint8Array(await new Response(conn.readable).arrayBuffer());
  return bytes;
}

/** Whether a netcat is on the PATH. */
async function hasNetcat(): Promise<boolean> {
  try {
    await new Deno.Command("nc", { args: ["-h"], stdout: "null", stderr: "null" }).output();
    return true;
  } catch {
    return false;
  }
}

Deno.test("the server sends the file's exact bytes, whatever they are", async (t) => {
  const files = ["poetry/science.txt", "tests/helpers/all-bytes.bin", "poetry/ecstasy.txt"];
  const servers = await startServers(
    files.map((poetryFile) => ({ poetryFile, delay: 0, numBytes: 7 })),
  );
  try {
    await t.step("read with Deno.connect", async () => {
      for (const [i, server] of servers.entries()) {
        const expected = Deno.readFileSync(repoPath(files[i]));
        const received = await withDeadline(readAll(server.port), 10_000, `${files[i]} to its end`);
        assert.deepEqual(received, expected, files[i]);
      }
    });
    await t.step({
      name: "read with netcat (nc 127.0.0.1 PORT)",
      ignore: !(await hasNetcat()),
      fn: async () => {
        const nc = new Deno.Command("nc", {
          args: ["127.0.0.1", String(servers[2].port)],
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const output = await withDeadline(nc.output(), 10_000, "nc reading the poem").catch(
          (error) => {
            nc.kill("SIGKILL");
            throw error;
          },
        );
        assert.deepEqual(output.stdout, Deno.readFileSync(repoPath(files[2])));
      },
    });
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
});

Deno.test("the server serves one client at a time", async () => {
  const [server] = await startServers([{ poetryFile: "poetry/alla_sera.txt", delay: 0.005 }]);
  try {
    const start = performance.now();
    const finishedAt = async (port: number) => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      const reader = conn.readable.getReader();
      let firstByteAt = -1;
      while (true) {
        const { done } = await reader.read();
        if (done) break;
        if (firstByteAt < 0) firstByteAt = performance.now() - start;
      }
      return { firstByteAt, endAt: performance.now() - start };
    };
    const [first, second] = await withDeadline(
      Promise.all([finishedAt(server.port), finishedAt(server.port)]),
      10_000,
      "two clients, each reading the poem to its end",
    );
    const [earlier, later] = first.endAt < second.endAt ? [first, second] : [second, first];
    assert.ok(
      later.firstByteAt >= earlier.endAt - 20,
      `the second client got bytes at ${later.firstByteAt} ms, before the first was done at ${earlier.endAt} ms`,
    );
  } finally {
    await server.stop();
  }
});

Deno.test("--help explains how to run each script", async () => {
  const scripts = [
    ["blocking-server/slowpoetry.ts", "--num-bytes"],
    ["blocking-client/get-poetry.ts", "10000 10001 10002"],
    ["async-client/get-poetry.ts", "10000 10001 10002"],
  ];
  for (const [script, mention] of scripts) {
    const outcome = await runScript(script, ["--help"]);
    assert.equal(outcome.code, 0);
    assert.equal(outcome.stderr, "");
    const help = texts(outcome.lines).join("\n");
    const name = script.slice(script.indexOf("/") + 1);
    assert.ok(help.startsWith(`usage: ${name} `), help);
    assert.ok(help.includes(`deno run -N -R ${script}`), help);
    assert.ok(help.includes(mention), help);
  }
});
