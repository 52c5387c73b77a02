/**
 * How programs that use the socket layer end: by themselves, once their work is done,
 * whether or not they closed their sockets, as Python programs do. The peers of what
 * was left open see the connections end, after every byte already sent.
 */

import assert from "node:assert/strict";
import { ScriptProcess } from "../tools/process.ts";
import { withDeadline } from "./helpers/deadline.ts";

const FIXTURE = "tests/fixtures/socket_exit.ts";

/** How long a program may take to exit after it printed `done`. */
const EXIT_BOUND_MS = 1000;

/**
 * Runs the fixture in `mode`, and checks that it prints `done` and then exits with
 * status 0 and no error within {@linkcode EXIT_BOUND_MS}. Returns its stdout lines.
 */
async function endsByItself(mode: string, ...args: string[]): Promise<string[]> {
  const child = new ScriptProcess(FIXTURE, [mode, ...args]);
  const done = await child.waitForLine((text) => text === "done", 15_000);
  const outcome = await child.finished(15_000);
  const exitedAfterMs = outcome.elapsedMs - done.at;
  console.log(`  ${mode}: exited ${exitedAfterMs.toFixed(0)} ms after "done"`);
  assert.equal(outcome.stderr, "");
  assert.equal(outcome.code, 0);
  assert.ok(
    exitedAfterMs < EXIT_BOUND_MS,
    `${mode}: exited ${exitedAfterMs.toFixed(0)} ms after its work was done`,
  );
  return outcome.lines.map((line) => line.text);
}

Deno.test("a program exits by itself once its sockets are closed", async () => {
  assert.deepEqual(await endsByItself("close-all"), ["got ping", "done"]);
});

Deno.test("a program that leaves a connected pair open exits by itself", async () => {
  assert.deepEqual(await endsByItself("pair"), ["got ping", "done"]);
});

Deno.test("a program that leaves a listener open exits, and its port is free again", async () => {
  const lines = await endsByItself("listener");
  const port = Number(/^port (\d+)$/.exec(lines[0])?.[1]);
  assert.ok(port > 0, `no port in ${JSON.stringify(lines)}`);
  const again = Deno.listen({ hostname: "127.0.0.1", port });
  again.close();
});

Deno.test("a program that leaves a socket read to the end open exits by itself", async () => {
  assert.deepEqual(await endsByItself("eof"), ["read 3 bytes to the end", "done"]);
});

Deno.test("a program that leaves a refused socket open exits by itself", async () => {
  assert.deepEqual(await endsByItself("refused"), ["refused", "done"]);
});

Deno.test("a program that ends without closing: its peer gets every byte, then the end", async () => {
  // More than the loopback's buffers hold while nobody reads, so that bytes still wait
  // in the socket layer's send buffer when the program reaches its end.
  const count = 8 * 1024 * 1024 + 17;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const child = new ScriptProcess(FIXTURE, ["send", String(listener.addr.port), String(count)]);
    const conn = await listener.accept();
    // Read slowly (64 KiB every 10 ms), so that the program reaches its end while bytes
    // of its still wait in the socket layer's send buffer.
    const received = new Uint8Array(count + 1);
    let total = 0;
    const reading = (async () => {
      for (;;) {
        const n = await conn.read(received.subarray(total, total + 65536));
        if (n === null) return;
        total += n;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    try {
      await withDeadline(reading, 15_000, () => `the end of stream (${total} bytes so far)`);
    } finally {
      conn.close();
    }
    const outcome = await child.finished(15_000);
    assert.equal(outcome.code, 0);
    assert.equal(total, count);
    for (let i = 0; i < count; i++) {
      if (received[i] !== i % 251) assert.fail(`byte ${i} is ${received[i]}, not ${i % 251}`);
    }
  } finally {
    listener.close();
  }
});
