/**
 * `deno task servers` (the article's three servers in one terminal, stopped by Ctrl-C or
 * SIGTERM with no port left taken, a taken port a one-line error) and `tools/netcat.ts`
 * (what a server sends, byte for byte).
 *
 * Run: deno test -A tests/servers_test.ts
 */

import assert from "node:assert/strict";
import {
  closedPort,
  type Outcome,
  repoPath,
  ScriptProcess,
  startServers,
} from "../tools/process.ts";

const PERMISSIONS = ["-R", "--allow-run"];

/** Whether a port of 127.0.0.1 can be listened on now. */
function canListen(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/** A port N such that N, N+1 and N+2 are free on 127.0.0.1 now. */
function freeBasePort(): number {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    if ([base, base + 1, base + 2].every(canListen)) return base;
  }
  throw new Error("no three free ports in a row");
}

function startServersTask(args: string[]): ScriptProcess {
  return new ScriptProcess("tools/servers.ts", args, { permissions: PERMISSIONS });
}

const texts = (outcome: Outcome): string[] => outcome.lines.map((line) => line.text);

for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.test(`the three servers serve a client, then ${signal} stops them all`, async () => {
    const base = freeBasePort();
    const servers = startServersTask(["--base-port", String(base), "--scale", "0.02"]);
    try {
      await servers.waitForLine((line) => line === "Ctrl-C stops them.", 20_000);
      const ports = [base, base + 1, base + 2];
      const client = new ScriptProcess("async-client/get-poetry.ts", ports.map(String));
      const outcome = await client.finished(30_000);
      assert.equal(outcome.code, 0, outcome.stderr);
      assert.equal(
        texts(outcome).filter((line) => /^Task \d: \d+ bytes of poetry$/.test(line)).length,
        3,
      );
      await servers.waitForLine((line) => line.startsWith(`[${base + 2}] Sending 10 bytes`));
    } finally {
      servers.kill(signal);
    }
    const outcome = await servers.finished(20_000);
    assert.equal(outcome.code, code, outcome.stderr);
    const lines = texts(outcome);
    assert.deepEqual(lines.slice(0, 3), [
      `[${base}] Serving poetry/ecstasy.txt on port ${base}.`,
      `[${base + 1}] Serving poetry/fascination.txt on port ${base + 1}.`,
      `[${base + 2}] Serving poetry/science.txt on port ${base + 2}.`,
    ]);
    assert.ok(lines.includes(`[${base}] Sending 30 bytes`));
    assert.ok(lines.some((line) => line.startsWith(`[${base + 1}] Somebody at 127.0.0.1:`)));
    for (const port of [base, base + 1, base + 2]) {
      assert.ok(canListen(port), `port ${port} is still taken`);
    }
  });
}

Deno.test("a port already taken: one line, exit 1, and the other servers stopped", async () => {
  const base = freeBasePort();
  const blocker = Deno.listen({ hostname: "127.0.0.1", port: base + 1 });
  try {
    const outcome = await startServersTask(["--base-port", String(base), "--fast"]).finished(
      20_000,
    );
    assert.equal(outcome.code, 1);
    assert.deepEqual(texts(outcome), []);
    const errors = outcome.stderr.trim().split("\n");
    assert.equal(errors.length, 1, outcome.stderr);
    assert.match(
      errors[0],
      /^servers\.ts: error: the server of poetry\/fascination\.txt did not start: /,
    );
    assert.match(errors[0], /Address already in use/);
  } finally {
    blocker.close();
  }
  for (const port of [base, base + 1, base + 2]) assert.ok(canListen(port), `port ${port} taken`);
});

Deno.test("servers: a bad option is a one-line usage error", async () => {
  const outcome = await startServersTask(["--base-port", "65534"]).finished(10_000);
  assert.equal(outcome.code, 2);
  assert.match(outcome.stderr.trim(), /^servers\.ts: error: --base-port must be at most 65533/);
});

/** Runs tools/netcat.ts, giving its raw stdout. */
async function netcat(
  args: string[],
): Promise<{ code: number; stdout: Uint8Array; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-N", repoPath("tools/netcat.ts"), ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
    signal: AbortSignal.timeout(20_000),
  }).output();
  return {
    code: output.code,
    stdout: output.stdout,
    stderr: new TextDecoder().decode(output.stderr),
  };
}

Deno.test("netcat prints the poem a server sends, byte for byte, and ends with it", async () => {
  const [server] = await startServers([{ poetryFile: "poetry/science.txt", delay: 0.001 }]);
  try {
    for (const args of [[String(server.port)], ["localhost", String(server.port)]]) {
      const { code, stdout, stderr } = await netcat(args);
      assert.equal(code, 0, stderr);
      assert.deepEqual(stdout, Deno.readFileSync(repoPath("poetry/science.txt")));
    }
  } finally {
    await server.stop();
  }
});

Deno.test("netcat: a refused connection or a bad port is a one-line error", async () => {
  const refused = await netcat(["127.0.0.1", String(closedPort())]);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr.trim(),
    /^netcat\.ts: error: cannot connect to 127\.0\.0\.1:\d+: Connection refused$/,
  );
  const badPort = await netcat(["localhost", "ten"]);
  assert.equal(badPort.code, 2);
  assert.equal(badPort.stderr.trim(), "netcat.ts: error: Ports must be integers.");
});
