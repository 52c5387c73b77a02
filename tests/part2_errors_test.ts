/**
 * Bad input to Part 2's scripts: one line on stderr, a non-zero exit, no
 * stack trace.
 */
import assert from "node:assert/strict";
import { closedPort, type Outcome, runScript, startServers } from "../tools/process.ts";

const SERVER = "blocking-server/slowpoetry.ts";
const CLIENTS = ["blocking-client/get-poetry.ts", "async-client/get-poetry.ts"];

/** Checks that the script failed with exactly `NAME: error: MESSAGE` and `code`. */
function assertFailed(
  outcome: Outcome,
  name: string,
  message: string | RegExp,
  code: number,
): void {
  assert.equal(outcome.code, code, outcome.stderr);
  assert.ok(outcome.stderr.endsWith("\n"), outcome.stderr);
  const lines = outcome.stderr.slice(0, -1).split("\n");
  assert.equal(lines.length, 1, `more than one stderr line:\n${outcome.stderr}`);
  assert.doesNotMatch(outcome.stderr, /\bat .*:\d+:\d+/, "a stack frame");
  const prefix = `${name}: error: `;
  assert.ok(lines[0].startsWith(prefix), lines[0]);
  const text = lines[0].slice(prefix.length);
  if (typeof message === "string") assert.equal(text, message);
  else assert.match(text, message);
}

Deno.test("the server's usage errors exit 2", async () => {
  const cases: [string[], string][] = [
    [[], "Provide exactly one poetry file."],
    [["poetry/no-such-poem.txt"], "No such file: poetry/no-such-poem.txt"],
    [["poetry/science.txt", "poetry/ecstasy.txt"], "Provide exactly one poetry file."],
    [["poetry"], "Not a file: poetry"],
    [["--port", "ten", "poetry/science.txt"], "Ports must be integers."],
    [["--port", "65536", "poetry/science.txt"], "Ports must be between 0 and 65535, not 65536."],
    [["--port", "-1", "poetry/science.txt"], "Ports must be between 0 and 65535, not -1."],
    [["--delay", "-1", "poetry/science.txt"], "--delay must be at least 0, not -1."],
    [["--num-bytes", "-5", "poetry/science.txt"], "--num-bytes must be at least 1, not -5."],
    [["--num-bytes", "0", "poetry/science.txt"], "--num-bytes must be at least 1, not 0."],
    [["--num-bytes", "2.5", "poetry/science.txt"], "--num-bytes must be an integer, not '2.5'."],
    [["--delay", "soon", "poetry/science.txt"], "--delay must be a number, not 'soon'."],
    [["--speed", "9", "poetry/science.txt"], "Unknown option '--speed'."],
    [["poetry/science.txt", "--port"], "Option '--port <value>' argument missing"],
  ];
  await Promise.all(cases.map(async ([args, message]) => {
    assertFailed(await runScript(SERVER, args), "slowpoetry.ts", message, 2);
  }));
});

Deno.test("the server: a port in use is a one-line error, exit 1", async () => {
  const [server] = await startServers([{ poetryFile: "poetry/science.txt" }]);
  try {
    const outcome = await runScript(SERVER, [
      "--iface",
      "127.0.0.1",
      "--port",
      String(server.port),
      "poetry/science.txt",
    ]);
    assertFailed(
      outcome,
      "slowpoetry.ts",
      `cannot listen on 127.0.0.1:${server.port}: [Errno 98] Address already in use`,
      1,
    );
    assert.deepEqual(outcome.lines, []);
  } finally {
    await server.stop();
  }
});

Deno.test("the clients' usage errors exit 2", async () => {
  const cases: [string[], string][] = [
    [[], "Provide at least one server address."],
    [["ten"], "Ports must be integers."],
    [["10000", "localhost:port"], "Ports must be integers."],
    [["127.0.0.1:70000"], "Ports must be between 0 and 65535, not 70000."],
    [["-5"], "Unknown option '-5'."],
  ];
  await Promise.all(CLIENTS.flatMap((client) =>
    cases.map(async ([args, message]) => {
      const outcome = await runScript(client, args);
      assertFailed(outcome, "get-poetry.ts", message, 2);
      assert.deepEqual(outcome.lines, [], client);
    })
  ));
});

Deno.test("the clients: a server that is not there is a one-line error, exit 1", async () => {
  const port = closedPort();
  const message = `cannot get poetry from 127.0.0.1:${port}: [Errno 111] Connection refused`;
  const blocking = await runScript(CLIENTS[0], [String(port)]);
  assertFailed(blocking, "get-poetry.ts", message, 1);
  assert.deepEqual(blocking.lines.map((line) => line.text), [
    `Task 1: get poetry from: 127.0.0.1:${port}`,
  ]);
  const asynchronous = await runScript(CLIENTS[1], [String(port)]);
  assertFailed(asynchronous, "get-poetry.ts", message, 1);
  assert.deepEqual(asynchronous.lines, []);
});
