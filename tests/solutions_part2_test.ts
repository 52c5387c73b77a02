/**
 * The solutions of Part 2's exercises: `solutions/part-2/timing.ts` (servers started
 * and stopped, a table whose times add up), `get-poetry-callback.ts` and
 * `get-poetry-promise.ts` (several poems at once on the reactor, their sizes, a refused
 * port reported).
 *
 * Run: deno test -N -R --allow-run --allow-env --allow-sys tests/solutions_part2_test.ts
 */

import assert from "node:assert/strict";
import {
  closedPort,
  type Outcome,
  repoPath,
  runScript,
  ScriptProcess,
  type ServerSpec,
  startServers,
} from "../tools/process.ts";

const texts = (outcome: Outcome): string[] => outcome.lines.map((line) => line.text);

/** `timing.ts`, which needs `--allow-run` too, to start its servers. */
function timing(args: string[]): ScriptProcess {
  return new ScriptProcess("solutions/part-2/timing.ts", args, {
    permissions: ["-N", "-R", "--allow-run"],
  });
}

/** Whether something listens on the port. */
async function listening(port: number): Promise<boolean> {
  try {
    const connection = await Deno.connect({ hostname: "127.0.0.1", port });
    connection.close();
    return true;
  } catch {
    return false;
  }
}

/** Waits until nothing listens on any of the ports (a server takes a moment to exit). */
async function assertAllClosed(ports: number[]): Promise<void> {
  const deadline = performance.now() + 5000;
  for (const port of ports) {
    while (await listening(port)) {
      assert.ok(performance.now() < deadline, `port ${port} still open`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** The ports of every `NAME: N servers on ports P, Q` line. */
function portsIn(lines: string[]): number[] {
  return lines.flatMap((line) => {
    const match = /^\S+: \d+ servers on ports ([\d, ]+)$/.exec(line);
    return match ? match[1].split(", ").map(Number) : [];
  });
}

interface Row {
  name: string;
  servers: number;
  sum: number;
  max: number;
  blocking: number;
  async: number;
}

function rowsOf(lines: string[]): Row[] {
  const header = lines.findIndex((line) => line.startsWith("configuration "));
  assert.ok(header >= 0, lines.join("\n"));
  assert.match(lines[header], /servers\s+sum\s+max\s+blocking\s+async\s+blocking\/async$/);
  return lines.slice(header + 1).map((line) => {
    const match = /^(\S+)\s+(\d+)\s+([\d.]+) s\s+([\d.]+) s\s+([\d.]+) s\s+([\d.]+) s\s+[\d.]+$/
      .exec(line);
    assert.ok(match, line);
    const [, name, servers, sum, max, blocking, async] = match;
    return {
      name,
      servers: Number(servers),
      sum: Number(sum),
      max: Number(max),
      blocking: Number(blocking),
      async: Number(async),
    };
  });
}

Deno.test("Part 2 timing: presets, the table, the servers stopped", async () => {
  const outcome = await timing(["--preset", "equal,many", "--scale", "0.05"]).finished(30_000);
  assert.equal(outcome.stderr, "");
  assert.equal(outcome.code, 0);
  const lines = texts(outcome);
  const ports = portsIn(lines);
  assert.equal(ports.length, 3 + 8, lines.join("\n"));
  await assertAllClosed(ports);

  const rows = rowsOf(lines);
  assert.deepEqual(rows.map((row) => [row.name, row.servers]), [["equal", 3], ["many", 8]]);
  // science.txt, 653 bytes at 10 a time: 66 chunks of 0.005 s; alla_sera.txt: 12 of 50.
  assert.equal(rows[0].max, 0.33);
  assert.equal(rows[0].sum, 0.99);
  assert.equal(rows[1].max, 0.06);
  assert.equal(rows[1].sum, 0.48);
  for (const row of rows) {
    assert.ok(row.blocking >= row.sum * 0.9, `blocking about the sum: ${JSON.stringify(row)}`);
    assert.ok(row.async >= row.max * 0.9, `async at least the max: ${JSON.stringify(row)}`);
    assert.ok(row.async < row.blocking, `async faster: ${JSON.stringify(row)}`);
  }
  assert.ok(
    rows[1].blocking / rows[1].async > 2,
    `eight servers at once: ${JSON.stringify(rows[1])}`,
  );
});

Deno.test("Part 2 timing: a configuration of one's own", async () => {
  const outcome = await timing([
    "--scale",
    "1",
    `${repoPath("poetry/alla_sera.txt")}:100:0.02`,
    "poetry/science.txt:200",
  ]).finished(30_000);
  assert.equal(outcome.stderr, "");
  assert.equal(outcome.code, 0);
  const rows = rowsOf(texts(outcome));
  assert.equal(rows.length, 1);
  assert.equal(rows[0].name, "custom");
  // 577 bytes: 6 chunks of 0.02 s; 653 bytes: 4 chunks of the default 0.1 s.
  assert.equal(rows[0].max, 0.4);
  assert.equal(rows[0].sum, 0.52);
  await assertAllClosed(portsIn(texts(outcome)));
});

Deno.test("Part 2 timing: Ctrl-C stops the servers", async () => {
  const child = timing(["--preset", "article", "--scale", "1"]);
  const line = await child.waitForLine((text) => text.startsWith("article: 3 servers"), 20_000);
  child.kill("SIGINT");
  const outcome = await child.finished(10_000);
  assert.equal(outcome.code, 130);
  assert.match(outcome.stderr, /^timing\.ts: interrupted; servers stopped\n$/);
  await assertAllClosed(portsIn([line.text]));
});

Deno.test("Part 2 timing: bad input is one line and status 2", async () => {
  for (
    const [args, message] of [
      [["--preset", "nope"], "No such preset: nope (choose from article, equal, skewed, many)."],
      [["no-such-file.txt"], "No such file: no-such-file.txt"],
      [["poetry/science.txt:ten"], "NUM-BYTES must be an integer, not 'ten'."],
      [["--scale", "fast"], "--scale must be a number, not 'fast'."],
    ]
  ) {
    const outcome = await timing(args as string[]).finished(10_000);
    assert.equal(outcome.code, 2, String(args));
    assert.equal(outcome.stderr, `timing.ts: error: ${message}\n`);
  }
  const help = await timing(["--help"]).finished(10_000);
  assert.equal(help.code, 0);
  assert.match(texts(help)[0], /^usage: timing\.ts /);
});

// -- getPoetry with a callback, and with a promise --------------------------------------

const POEMS: ServerSpec[] = [
  { poetryFile: "poetry/science.txt", delay: 0.015 },
  { poetryFile: "poetry/ecstasy.txt", numBytes: 300, delay: 0.02 },
  { poetryFile: "poetry/fascination.txt", delay: 0.005 },
];

function sizes(file: string): { bytes: number; characters: number } {
  const bytes = Deno.readFileSync(repoPath(file));
  return { bytes: bytes.length, characters: [...new TextDecoder().decode(bytes)].length };
}

for (const variant of ["callback", "promise"]) {
  const script = `solutions/part-2/get-poetry-${variant}.ts`;

  Deno.test(`Part 2 getPoetry with a ${variant}: three poems at once, and a refused port`, async () => {
    const servers = await startServers(POEMS);
    try {
      const refused = closedPort();
      const ports = [...servers.map((server) => server.port), refused];
      const child = new ScriptProcess(script, ports.map(String));
      const outcome = await child.finished(8_000).catch(() => {
        // Every poem is in by 1 s; only the reactor's stop can be missing.
        assert.fail(
          "still running after 8 s, the reactor not stopped after printing:\n" +
            child.lines.map((line) => line.text).join("\n"),
        );
      });
      assert.equal(outcome.stderr, "");
      assert.equal(outcome.code, 0);
      const lines = texts(outcome);
      assert.equal(lines[0], "Started 4 downloads; getPoetry has returned each time.");
      const expected = POEMS.map((spec, i) => {
        const { bytes, characters } = sizes(spec.poetryFile);
        return `Task ${i + 1}: got a poem of ${bytes} bytes (${characters} characters) from ` +
          `127.0.0.1:${ports[i]}`;
      });
      expected.push(
        `Task 4: failed to get poetry from 127.0.0.1:${refused}: [Errno 111] Connection refused`,
      );
      assert.deepEqual(lines.slice(1, -1).toSorted(), expected.toSorted());
      // Each poem is reported as it completes: the refusal at once, science.txt (1 s) last.
      assert.equal(lines[1], expected[3]);
      assert.equal(lines[4], expected[0]);
      assert.match(lines[5], /^Got 3 poems in 0:00:\d\d\.\d{6}$/);
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
  });

  Deno.test(`Part 2 getPoetry with a ${variant}: usage`, async () => {
    const outcome = await runScript(script, [], 10_000);
    assert.equal(outcome.code, 2);
    assert.equal(
      outcome.stderr,
      `get-poetry-${variant}.ts: error: Provide at least one server address.\n`,
    );
  });
}

Deno.test("Part 2 getPoetry: the bytes counted are those that arrived, not the text re-encoded", async () => {
  // 21 bytes that are not UTF-8: they decode to 21 U+FFFD, which encode again to 63 bytes.
  const directory = await Deno.makeTempDir({ prefix: "poem-" });
  const poetryFile = `${directory}/not-utf8.bin`;
  await Deno.writeFile(poetryFile, new Uint8Array(21).fill(0xff));
  const [server] = await startServers([{ poetryFile, numBytes: 7, delay: 0.001 }]);
  try {
    for (const variant of ["callback", "promise"]) {
      const outcome = await runScript(
        `solutions/part-2/get-poetry-${variant}.ts`,
        [String(server.port)],
        10_000,
      );
      assert.equal(outcome.stderr, "");
      assert.equal(
        texts(outcome)[1],
        `Task 1: got a poem of 21 bytes (21 characters) from 127.0.0.1:${server.port}`,
        variant,
      );
    }
  } finally {
    await server.stop();
    await Deno.remove(directory, { recursive: true });
  }
});
