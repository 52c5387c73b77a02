/**
 * The solutions of Part 4's exercises: `solutions/part-4/get-poetry-robust.ts` (a refused
 * connection reported, the other poems fetched, exit 0) and `get-poetry-timeout.ts`
 * (a too-slow poem given up after `--timeout`, its connection closed, the finished
 * poem's timer cancelled, no delayed call left), as scripts on both reactors and, for
 * the timeout, in-process on a reactor of the test's own.
 *
 * Run: deno test -N -R --allow-run --allow-env --allow-sys tests/solutions_part4_test.ts
 */

import assert from "node:assert/strict";
import { SelectReactor } from "../lib/reactor/select.ts";
import { TimedPoetrySocket } from "../solutions/part-4/get-poetry-timeout.ts";
import {
  closedPort,
  type Outcome,
  repoPath,
  type RunningServer,
  runScript,
  type ServerSpec,
  startServers,
} from "../tools/process.ts";
import { REACTORS } from "./helpers/reactors.ts";

const ROBUST = "solutions/part-4/get-poetry-robust.ts";
const TIMEOUT = "solutions/part-4/get-poetry-timeout.ts";
const DURATION = String.raw`\d+:\d\d:\d\d(?:\.\d{6})?`;
const REFUSED = "[Errno 111] Connection refused";

const texts = (outcome: Outcome): string[] => outcome.lines.map((line) => line.text);

function charactersOf(file: string): number {
  return [...new TextDecoder().decode(Deno.readFileSync(repoPath(file)))].length;
}

/** The lines after the per-chunk ones (`Task N: got ...`), which vary with timing. */
function withoutChunks(lines: string[]): string[] {
  return lines.filter((line) => !/^Task \d+: got \d+ bytes of poetry from /.test(line));
}

async function withServers(
  specs: ServerSpec[],
  body: (servers: RunningServer[]) => Promise<void>,
): Promise<void> {
  const servers = await startServers(specs);
  try {
    await body(servers);
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

/**
 * Whether the server has gone back to `accept`: it serves one client at a time, so it
 * greets a new client only once the previous connection is over.
 */
async function assertServesNextClient(server: RunningServer, withinMs: number): Promise<void> {
  const greetings = () =>
    server.process.lines.filter((line) => line.text.startsWith("Somebody at ")).length;
  const before = greetings();
  const connection = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    await server.process.waitForLine(() => greetings() > before, withinMs);
  } finally {
    connection.close();
  }
}

const FAST: ServerSpec[] = [
  { poetryFile: "poetry/science.txt", delay: 0.003 },
  { poetryFile: "poetry/fascination.txt", delay: 0.003 },
];

for (const [reactor] of REACTORS) {
  Deno.test(`Part 4 robust client (${reactor}): a refused connection does not stop the others`, async () => {
    await withServers(FAST, async (servers) => {
      const refused = closedPort();
      const ports = [servers[0].port, refused, servers[1].port];
      const outcome = await runScript(ROBUST, ["--reactor", reactor, ...ports.map(String)], 15_000);
      assert.equal(outcome.stderr, "");
      assert.equal(outcome.code, 0);
      const lines = withoutChunks(texts(outcome));
      assert.equal(
        lines[0],
        `Task 2: failed to connect to 127.0.0.1:${refused}: ${REFUSED}`,
      );
      assert.deepEqual(lines.slice(1, 3).toSorted(), ["Task 1 finished", "Task 3 finished"]);
      assert.deepEqual(lines.slice(3, 6), [
        `Task 1: ${charactersOf("poetry/science.txt")} characters of poetry`,
        `Task 2: no poetry (${REFUSED})`,
        `Task 3: ${charactersOf("poetry/fascination.txt")} characters of poetry`,
      ]);
      assert.match(lines[6], new RegExp(`^Got 2 of 3 poems in ${DURATION}$`));
      assert.equal(lines.length, 7);
    });
  });
}

Deno.test("Part 4 robust client: no server at all, it still ends with its summary", async () => {
  const [a, b] = [closedPort(), closedPort()];
  const outcome = await runScript(ROBUST, [String(a), String(b)], 10_000);
  assert.equal(outcome.stderr, "");
  assert.equal(outcome.code, 0);
  assert.deepEqual(texts(outcome).slice(0, -1), [
    `Task 1: failed to connect to 127.0.0.1:${a}: ${REFUSED}`,
    `Task 2: failed to connect to 127.0.0.1:${b}: ${REFUSED}`,
    `Task 1: no poetry (${REFUSED})`,
    `Task 2: no poetry (${REFUSED})`,
  ]);
  assert.match(texts(outcome).at(-1) as string, new RegExp(`^Got 0 of 2 poems in ${DURATION}$`));
});

// -- the time limit ------------------------------------------------------------------------

/** science.txt at 3 ms a chunk (0.2 s), and at 200 ms a chunk (13 s). */
const FAST_AND_SLOW: ServerSpec[] = [
  { poetryFile: "poetry/science.txt", delay: 0.003 },
  { poetryFile: "poetry/science.txt", delay: 0.2 },
];

for (const [reactor] of REACTORS) {
  Deno.test(`Part 4 timeout client (${reactor}): the slow poem given up, the fast one complete`, async () => {
    await withServers(FAST_AND_SLOW, async ([fast, slow]) => {
      const outcome = await runScript(
        TIMEOUT,
        ["--timeout", "1", "--reactor", reactor, String(fast.port), String(slow.port)],
        15_000,
      );
      assert.equal(outcome.stderr, "");
      assert.equal(outcome.code, 0);
      const lines = withoutChunks(texts(outcome));
      assert.equal(lines[0], "Task 1 finished");
      const lost = /^Task 2: lost after (\d+) bytes: timed out after 1 seconds$/.exec(lines[1]);
      assert.ok(lost, lines[1]);
      const bytes = Number(lost[1]);
      assert.ok(bytes > 0 && bytes < 200, `${bytes} bytes in about 1 s at 10 bytes per 0.2 s`);
      assert.equal(lines[2], `Task 1: ${charactersOf("poetry/science.txt")} characters of poetry`);
      assert.match(lines[3], /^Task 2: \d+ characters of poetry \(timed out\)$/);
      const total = new RegExp(`^Got 1 of 2 poems in 0:00:(\\d\\d\\.\\d{6})$`).exec(lines[4]);
      assert.ok(total, lines[4]);
      assert.ok(Number(total[1]) >= 1 && Number(total[1]) < 5, `${total[1]} s, about 1 expected`);
      assert.equal(lines[5], "Delayed calls still pending: 0");
      assert.equal(lines.length, 6);
      // The connection is over: the server, 12 s short of the end of its poem, has gone
      // back to accept and greets the next client.
      await assertServesNextClient(slow, 3000);
    });
  });
}

Deno.test("Part 4 timeout client: in-process, timers cancelled and the slow socket closed", async () => {
  await withServers(FAST_AND_SLOW, async ([fast, slow]) => {
    const reactor = new SelectReactor();
    const printed: string[] = [];
    const log = console.log;
    console.log = (...parts: unknown[]) => printed.push(parts.join(" "));
    let downloads: TimedPoetrySocket[];
    const timersWhenFastEnded: number[] = [];
    try {
      downloads = [
        // The fast one's limit is the longer: had its timer not been cancelled when its
        // poem ended, it would still be pending when the slow one gives up at 1 s.
        new TimedPoetrySocket(1, ["127.0.0.1", fast.port], reactor, 5),
        new TimedPoetrySocket(2, ["127.0.0.1", slow.port], reactor, 1),
      ];
      const [fastDownload] = downloads;
      const original = fastDownload.connectionLost.bind(fastDownload);
      fastDownload.connectionLost = (reason: Error) => {
        original(reason);
        timersWhenFastEnded.push(reactor.getDelayedCalls().length);
      };
      // A bound, so that a reactor nobody stops fails the test instead of hanging it.
      let stoppedByBound = false;
      const bound = setTimeout(() => {
        stoppedByBound = true;
        reactor.stop();
      }, 10_000);
      await reactor.run();
      clearTimeout(bound);
      assert.equal(stoppedByBound, false, "the reactor was still running after 10 s");
    } finally {
      console.log = log;
    }
    const [fastDownload, slowDownload] = downloads;
    assert.equal(fastDownload.timedOut, false);
    assert.equal(fastDownload.failure, null);
    assert.equal(fastDownload.poem.bytes, 653);
    assert.deepEqual(timersWhenFastEnded, [1], "only the slow one's timer left");
    assert.equal(slowDownload.timedOut, true);
    assert.equal(slowDownload.failure?.message, "timed out after 1 seconds");
    assert.equal(slowDownload.fileno(), -1, "its socket closed");
    assert.deepEqual(reactor.getReaders(), []);
    assert.deepEqual(reactor.getDelayedCalls(), []);
    assert.ok(printed.includes("Task 1 finished"), printed.join("\n"));
    assert.ok(printed.some((line) => line.startsWith("Task 2: lost after ")), printed.join("\n"));
    // The process is still alive, so the server can only have seen the client's close.
    await assertServesNextClient(slow, 3000);
  });
});

Deno.test("Part 4 solutions: usage and a refused connection in the timeout client", async () => {
  const noTimeout = await runScript(TIMEOUT, ["10000"], 10_000);
  assert.equal(noTimeout.code, 2);
  assert.equal(
    noTimeout.stderr,
    "get-poetry-timeout.ts: error: Say how long to wait: --timeout S.\n",
  );
  const badTimeout = await runScript(TIMEOUT, ["--timeout", "soon", "10000"], 10_000);
  assert.equal(badTimeout.code, 2);
  assert.equal(
    badTimeout.stderr,
    "get-poetry-timeout.ts: error: --timeout must be a number, not 'soon'.\n",
  );
  const negativeTimeout = await runScript(TIMEOUT, ["--timeout", "-1", "10000"], 10_000);
  assert.equal(negativeTimeout.code, 2);
  assert.equal(
    negativeTimeout.stderr,
    "get-poetry-timeout.ts: error: --timeout must be at least 0, not -1.\n",
  );
  const port = closedPort();
  const refused = await runScript(TIMEOUT, ["--timeout", "1", String(port)], 10_000);
  assert.equal(refused.code, 1);
  assert.equal(
    refused.stderr,
    `get-poetry-timeout.ts: error: cannot get poetry from 127.0.0.1:${port}: ${REFUSED}\n`,
  );
  const robust = await runScript(ROBUST, [], 10_000);
  assert.equal(robust.code, 2);
  assert.equal(
    robust.stderr,
    "get-poetry-robust.ts: error: Provide at least one server address.\n",
  );
});
