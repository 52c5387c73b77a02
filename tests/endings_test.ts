/**
 * How the scripts end when something is missing: a permission not given (with no
 * terminal attached, so Deno cannot ask), or a poem that vanished while the server
 * runs. One clear line and an exit, or, for the server, a line and the next client.
 */
import assert from "node:assert/strict";
import { closedPort, ScriptProcess, startServers } from "../tools/process.ts";
import { selectAsync, Socket } from "../lib/socket/mod.ts";
import { concat } from "./helpers/bytes.ts";

const CLIENTS = [
  "blocking-client/get-poetry.ts",
  "async-client/get-poetry.ts",
  "twisted-client/get-poetry.ts",
  "twisted-client/get-poetry-broken.ts",
  "solutions/part-2/get-poetry-callback.ts",
  "solutions/part-2/get-poetry-promise.ts",
  "solutions/part-4/get-poetry-robust.ts",
];

/** Runs `script` with only `permissions`, and checks it ends at once with one line. */
async function failsForPermission(
  script: string,
  args: string[],
  permissions: string[],
  flag: RegExp,
): Promise<void> {
  const child = new ScriptProcess(script, args, { permissions });
  const outcome = await child.finished(15_000);
  const name = script.slice(script.lastIndexOf("/") + 1);
  const what = `${script} with [${permissions.join(" ")}]`;
  assert.equal(outcome.code, 1, `${what}: status ${outcome.code}; ${outcome.stderr}`);
  const lines = outcome.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `${what}: more than one line:\n${outcome.stderr}`);
  assert.match(lines[0], new RegExp(`^${name}: error: Requires \\w+ access to `), what);
  assert.match(lines[0], flag, what);
}

Deno.test("a missing -N or -R: one line naming the flag, exit 1, no hang", async () => {
  const port = String(closedPort());
  for (const script of CLIENTS) {
    await failsForPermission(script, [port], [], /--allow-(net|read) flag/);
    await failsForPermission(script, [port], ["-N"], /--allow-read flag \(-R\)/);
    await failsForPermission(script, [port], ["-R"], /--allow-net flag \(-N\)/);
  }
  const timeout = "solutions/part-4/get-poetry-timeout.ts";
  await failsForPermission(timeout, ["--timeout", "1", port], ["-N"], /--allow-read flag/);
  await failsForPermission(timeout, ["--timeout", "1", port], ["-R"], /--allow-net flag/);
});

Deno.test("the server without -R, or without -N: one line naming the flag, exit 1", async () => {
  const server = "blocking-server/slowpoetry.ts";
  await failsForPermission(server, ["poetry/science.txt"], ["-N"], /--allow-read flag/);
  await failsForPermission(server, ["poetry/science.txt"], ["-R"], /--allow-net flag \(-N\)/);
  // Read access to the poem, but not to the socket layer's worker.
  const poem = `--allow-read=${new URL("../poetry/science.txt", import.meta.url).pathname}`;
  await failsForPermission(server, ["poetry/science.txt"], ["-N", poem], /--allow-read flag/);
});

/**
 * Connects to the server and reads until it closes; returns what arrived. It waits for
 * bytes with `selectAsync`, so that this thread's event loop keeps serving the server's
 * output meanwhile; a readable socket's `recv` does not block.
 */
async function fetchPoem(port: number): Promise<Uint8Array> {
  const socket = new Socket();
  try {
    socket.connect(["127.0.0.1", port]);
    const chunks: Uint8Array[] = [];
    for (;;) {
      await selectAsync([socket], [], []);
      const bytes = socket.recv(65536);
      if (bytes.length === 0) return concat(chunks);
      chunks.push(bytes);
    }
  } finally {
    socket.close();
  }
}

Deno.test("the server outlives a poem that vanished: it says so, and serves the next", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/poem.txt`;
  const text = "A poem that comes and goes. ✓\n";
  await Deno.writeTextFile(file, text);
  const [server] = await startServers([{ poetryFile: file, delay: 0, numBytes: 1000 }]);
  try {
    assert.equal(new TextDecoder().decode(await fetchPoem(server.port)), text);
    await Deno.remove(file);
    assert.equal((await fetchPoem(server.port)).length, 0, "no poem, and the connection closed");
    await server.process.waitForLine((line) => line.startsWith("Cannot read"));
    await Deno.writeTextFile(file, text);
    assert.equal(new TextDecoder().decode(await fetchPoem(server.port)), text);
    const outcome = await server.stop();
    const lines = outcome.lines.map((line) => line.text);
    assert.ok(
      lines.some((line) => line.startsWith(`Cannot read ${file}: `)),
      JSON.stringify(lines),
    );
    assert.equal(lines.filter((line) => line.includes("wants poetry!")).length, 3);
    assert.equal(outcome.stderr, "");
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a worker that dies fails the calls that wait on it, blocking or not: no hang", async () => {
  for (const mode of ["blocking", "async"]) {
    const child = new ScriptProcess("tests/fixtures/socket_dead_kernel.ts", [mode]);
    const outcome = await child.finished(15_000);
    assert.equal(outcome.stderr, "", mode);
    assert.equal(outcome.code, 0, mode);
    assert.deepEqual(
      outcome.lines.map((line) => line.text),
      ["failed: [Errno 5] The sockets' I/O worker died"],
      mode,
    );
  }
});
