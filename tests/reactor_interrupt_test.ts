/**
 * One Ctrl-C ends a reactor client: `twisted-client/get-poetry.ts` and the Part 4
 * solutions built on it (and, at the end, the Part 2 solutions on the reactor), each on the select and on the poll reactor, downloading from a
 * server that sends a first line and then nothing more, and from one that sends nothing
 * at all. After one SIGINT the client stops its
 * reactor, whose shutdown disconnects the two PoetrySockets still registered; they
 * close their sockets, the client prints its summary, and the process ends by itself.
 * The broken client blocks in `recv` inside `doRead`, so Ctrl-C cannot reach its loop,
 * as with Twisted: the last test checks that it ignores Ctrl-C there, and that Ctrl-\
 * (SIGQUIT), as the README says, ends it.
 *
 * Run: deno test -N -R --allow-run tests/reactor_interrupt_test.ts
 */

import assert from "node:assert/strict";
import { ScriptProcess } from "../tools/process.ts";
import { REACTORS } from "./helpers/reactors.ts";

const FIRST_LINE = "The first line, and then nothing more\n";
/** How long the client may take to end after the Ctrl-C. */
const EXIT_WITHIN_MS = 5_000;

/**
 * A listener on 127.0.0.1 that accepts every connection and never closes it: the
 * first connection gets {@linkcode FIRST_LINE}, the others nothing at all. `ended`
 * counts the connections whose client closed its end.
 */
class SilentServer {
  readonly #listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  readonly #connections: Deno.Conn[] = [];
  readonly #accepting: Promise<void>;
  readonly #watching: Promise<void>[] = [];
  ended = 0;

  constructor() {
    this.#accepting = this.#accept();
  }

  get port(): number {
    return this.#listener.addr.port;
  }

  async #accept(): Promise<void> {
    try {
      for await (const connection of this.#listener) {
        if (this.#connections.length === 0) {
          await connection.write(new TextEncoder().encode(FIRST_LINE));
        }
        this.#connections.push(connection);
        this.#watching.push(this.#watchForEnd(connection));
      }
    } catch {
      // the listener was closed
    }
  }

  /** Reads (and drops) what the client sends, until it closes its end. */
  async #watchForEnd(connection: Deno.Conn): Promise<void> {
    const buffer = new Uint8Array(1024);
    try {
      while ((await connection.read(buffer)) !== null) {
        // nothing is expected from a poetry client
      }
      this.ended++;
    } catch {
      this.ended++; // reset: ended too
    }
  }

  /** Waits (at most `timeoutMs`) until `count` clients have connected. */
  waitForConnections(count: number, timeoutMs: number): Promise<void> {
    return waitUntil(() => this.#connections.length >= count, timeoutMs);
  }

  /** Waits (at most `timeoutMs`) until `count` clients have closed their ends. */
  waitForEnds(count: number, timeoutMs: number): Promise<void> {
    return waitUntil(() => this.ended >= count, timeoutMs);
  }

  async close(): Promise<void> {
    this.#listener.close();
    for (const connection of this.#connections) {
      try {
        connection.close();
      } catch {
        // closed already
      }
    }
    await this.#accepting;
    await Promise.all(this.#watching);
  }
}

/** Waits (at most `timeoutMs`, looking every 20 ms) until `condition` holds. */
async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition() && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Checks that each of the two tasks printed a line starting as `start(task)` says. */
function assertEachTask(lines: string[], start: (task: number) => string, what: string): void {
  for (const task of [1, 2]) {
    assert.ok(
      lines.some((text) => text.startsWith(start(task))),
      `task ${task} was not ${what}:\n${lines.join("\n")}`,
    );
  }
}

/** Ends the client if it still runs, and the server. */
async function cleanUp(client: ScriptProcess, server: SilentServer): Promise<void> {
  client.kill("SIGKILL");
  await client.finished(EXIT_WITHIN_MS).catch(() => {});
  await server.close();
}

/** The clients, with the options each needs besides `--reactor` and the ports. */
const CLIENTS: Array<[string, string[]]> = [
  ["twisted-client/get-poetry.ts", []],
  ["solutions/part-4/get-poetry-robust.ts", []],
  ["solutions/part-4/get-poetry-timeout.ts", ["--timeout", "60"]],
];

for (const [script, options] of CLIENTS) {
  for (const [reactor] of REACTORS) {
    Deno.test(`${script} --reactor ${reactor}: one Ctrl-C ends it, with its summary`, () =>
      interruptOnce(script, [...options, "--reactor", reactor]));
  }
}

/**
 * Runs the client against a {@linkcode SilentServer} (two downloads), presses Ctrl-C
 * once its reactor runs, and checks that it prints its summary and ends by itself.
 */
async function interruptOnce(script: string, options: string[]): Promise<void> {
  const server = new SilentServer();
  const client = new ScriptProcess(script, [
    ...options,
    String(server.port),
    String(server.port),
  ]);
  try {
    // Printed by a doRead: the reactor is running, so Ctrl-C is its to handle.
    await client.waitForLine((text) => /^Task 1: got \d+ bytes of poetry/.test(text));
    const interruptedAt = performance.now();
    client.kill("SIGINT");
    const outcome = await client.finished(EXIT_WITHIN_MS);
    const tookMs = performance.now() - interruptedAt;
    const lines = outcome.lines.map((line) => line.text);
    assert.equal(outcome.signal, null, "ended by itself, not killed by the signal");
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.ok(tookMs < EXIT_WITHIN_MS, `ended ${tookMs.toFixed(0)} ms after the Ctrl-C`);
    // Each connectionLost stops the reactor only while it runs: no error, no trace.
    assert.equal(outcome.stderr, "");
    const summaryAt = lines.findIndex((text) =>
      text.startsWith(`Task 1: ${FIRST_LINE.length} characters of poetry`)
    );
    assert.ok(summaryAt >= 0, `no summary:\n${lines.join("\n")}`);
    assert.ok(lines[summaryAt + 1].startsWith("Task 2: 0 characters of poetry"));
    // The lesson counts its tasks, as the article's does; the solutions count whole poems,
    // and a download cut short by the Ctrl-C is not one.
    const got = script.startsWith("solutions/") ? "Got 0 of 2 poems" : "Got 2 poems";
    assert.match(lines[summaryAt + 2], new RegExp(`^${got} in \\d+:\\d\\d:\\d\\d(\\.\\d{6})?$`));
    // Each PoetrySocket was told the connection was lost, and closed its socket.
    assertEachTask(lines, (task) => `Task ${task}: lost after `, "disconnected");
    await server.waitForEnds(2, 2_000);
    assert.equal(server.ended, 2, "the server saw both connections end");
  } finally {
    await cleanUp(client, server);
  }
}

// The Part 2 solutions on the reactor: their downloads end in a callback or a promise,
// each of which stops the reactor when the last download is done; after a Ctrl-C that
// is the reactor's shutdown, which must not stop it a second time.
for (const variant of ["callback", "promise"]) {
  const script = `solutions/part-2/get-poetry-${variant}.ts`;
  Deno.test(`${script}: one Ctrl-C ends it, each download failed, no trace`, async () => {
    const server = new SilentServer();
    const client = new ScriptProcess(script, [String(server.port), String(server.port)]);
    try {
      // Printed just before `reactor.run()`; a Ctrl-C is the reactor's to handle once
      // it runs (before, it ends the program as Python's KeyboardInterrupt would), and
      // these clients print nothing while it runs: give it a moment to start.
      await client.waitForLine((text) => text.startsWith("Started 2 downloads"));
      await server.waitForConnections(2, 5_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      client.kill("SIGINT");
      const outcome = await client.finished(EXIT_WITHIN_MS);
      const lines = outcome.lines.map((line) => line.text);
      assert.equal(outcome.signal, null, "ended by itself, not killed by the signal");
      assert.equal(outcome.code, 0, outcome.stderr);
      assert.equal(outcome.stderr, "");
      assertEachTask(lines, (task) => `Task ${task}: failed to get poetry from `, "ended");
      assert.match(lines.at(-1) ?? "", /^Got 0 poems in \d+:\d\d:\d\d(\.\d{6})?$/);
      await server.waitForEnds(2, 2_000);
      assert.equal(server.ended, 2, "the server saw both connections end");
    } finally {
      await cleanUp(client, server);
    }
  });
}

Deno.test("twisted-client/get-poetry-broken.ts: Ctrl-C waits for the blocked doRead; Ctrl-\\ ends it", async () => {
  const server = new SilentServer();
  const client = new ScriptProcess("twisted-client/get-poetry-broken.ts", [String(server.port)]);
  try {
    await server.waitForConnections(1, 5_000);
    // The first line has come: doRead runs, and blocks in recv for the rest.
    await new Promise((resolve) => setTimeout(resolve, 500));
    client.kill("SIGINT");
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.deepEqual(client.lines, [], "nothing printed: the reactor never saw the Ctrl-C");
    client.kill("SIGQUIT");
    const outcome = await client.finished(EXIT_WITHIN_MS);
    assert.equal(outcome.signal, "SIGQUIT");
  } finally {
    await cleanUp(client, server);
  }
});
