/**
 * Part 2's scripts under interruption: a client that leaves mid-poem, and
 * Ctrl-C (SIGINT) while a script waits in a socket call or in sleep.
 */
import assert from "node:assert/strict";
import { repoPath, runScript, ScriptProcess, startServers } from "../tools/process.ts";
import { withDeadline } from "./helpers/deadline.ts";

/** Sends SIGINT and checks that the process ends within two seconds. */
async function assertInterruptible(process: ScriptProcess, what: string): Promise<void> {
  const sentAt = performance.now();
  process.kill("SIGINT");
  const outcome = await process.finished(5_000);
  const waited = performance.now() - sentAt;
  assert.ok(waited < 2_000, `${what}: exited ${Math.round(waited)} ms after SIGINT`);
  assert.ok(
    outcome.signal === "SIGINT" || outcome.code === 130,
    `${what}: ${JSON.stringify(outcome)}`,
  );
}

/** Lets a process settle into its wait. */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("a client that leaves mid-poem does not stop the server", async () => {
  const size = Deno.statSync(repoPath("poetry/fascination.txt")).size;
  const [server] = await startServers([{ poetryFile: "poetry/fascination.txt", delay: 0.01 }]);
  try {
    const quitter = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    const first = new Uint8Array(10);
    assert.equal(await withDeadline(quitter.read(first), 10_000, "the first 10 bytes"), 10);
    quitter.close();

    const outcome = await runScript("blocking-client/get-poetry.ts", [String(server.port)]);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.match(outcome.lines[1].text, new RegExp(`^Task 1: got ${size} bytes of poetry from `));

    const lines = server.process.lines.map((line) => line.text);
    const greetings = lines.flatMap((line, i) => line.startsWith("Somebody at ") ? [i] : []);
    assert.equal(greetings.length, 2, lines.join("\n"));
    const sentToQuitter = lines.slice(greetings[0], greetings[1])
      .filter((line) => line.startsWith("Sending ")).length;
    const chunks = Math.ceil(size / 10);
    assert.ok(
      sentToQuitter < chunks,
      `the server sent all ${chunks} chunks to a client that had left`,
    );
  } finally {
    await server.stop();
  }
});

Deno.test("SIGINT ends the server while it waits in accept", async () => {
  const [server] = await startServers([{ poetryFile: "poetry/science.txt" }]);
  await pause(200);
  await assertInterruptible(server.process, "waiting in accept");
});

Deno.test("SIGINT ends the server while it sleeps between chunks", async () => {
  const [server] = await startServers([{ poetryFile: "poetry/science.txt", delay: 30 }]);
  const client = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    await server.process.waitForLine((line) => line.startsWith("Sending "));
    await pause(200);
    await assertInterruptible(server.process, "sleeping");
  } finally {
    client.close();
  }
});

Deno.test("SIGINT ends the clients while they wait for a slow server", async () => {
  const servers = await startServers([
    { poetryFile: "poetry/science.txt", delay: 30 },
    { poetryFile: "poetry/science.txt", delay: 30 },
  ]);
  try {
    const blocking = new ScriptProcess("blocking-client/get-poetry.ts", [String(servers[0].port)]);
    const asynchronous = new ScriptProcess("async-client/get-poetry.ts", [String(servers[1].port)]);
    // Both get the first chunk at once, then wait 30 s for the next: the
    // blocking client in recv, the asynchronous one in select.
    await Promise.all(
      servers.map((server) => server.process.waitForLine((line) => line.startsWith("Sending "))),
    );
    await asynchronous.waitForLine((line) => line.startsWith("Task 1: got 10 bytes"));
    await pause(200);
    await assertInterruptible(blocking, "the blocking client in recv");
    await assertInterruptible(asynchronous, "the asynchronous client in select");
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
});

Deno.test("SIGINT ends the server while it waits in sendAll for a client that does not read", async () => {
  // 16 MiB in one chunk: more than the layer's send buffer and the kernel's together, so
  // sendAll blocks until the client reads, which it never does.
  const poem = await Deno.makeTempFile({ prefix: "big-poem-" });
  await Deno.writeFile(poem, new Uint8Array(16 * 1024 * 1024).fill(0x61));
  const [server] = await startServers([{ poetryFile: poem, delay: 0, numBytes: 16 * 1024 * 1024 }]);
  const client = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    await server.process.waitForLine((line) => line.startsWith("Sending "));
    await pause(300);
    assert.equal(server.process.lines.filter((line) => line.text.startsWith("Sending ")).length, 1);
    await assertInterruptible(server.process, "blocked in sendAll");
  } finally {
    client.close();
    await Deno.remove(poem);
  }
});
