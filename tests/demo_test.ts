/**
 * The tour (`deno task demo`), run with very short delays: its table, its timelines,
 * and that it leaves no server behind, also when interrupted.
 */
import assert from "node:assert/strict";
import { ROOT, ScriptProcess } from "../tools/process.ts";
import { occupied } from "../tools/timeline.ts";

const PERMISSIONS = ["-N", "-R", "-W", "--allow-run", "--allow-env=INIT_CWD"];
const POEM_BYTES = 3003 + 623 + 653;

/** The ports the tour says its servers listen on. */
function servedPorts(lines: string[]): number[] {
  return lines.flatMap((line) => {
    const match = /^ {2}poetry\/\S+ on port (\d+),/.exec(line);
    return match ? [Number(match[1])] : [];
  });
}

async function assertNothingListens(ports: number[]): Promise<void> {
  for (const port of ports) {
    await assert.rejects(
      Deno.connect({ hostname: "127.0.0.1", port }),
      Deno.errors.ConnectionRefused,
      `a server still listens on ${port}`,
    );
  }
}

/** The timeline rows of one client's section, as [first, last] occupied columns per task. */
function timeline(lines: string[], client: string): Array<[number, number]> {
  const start = lines.findIndex((line) => line.startsWith(`The ${client} (`));
  assert.ok(start >= 0, `no timeline for the ${client}`);
  const rows: Array<[number, number]> = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith("Task ")) break;
    const range = occupied(line);
    assert.ok(range, `empty row: ${line}`);
    rows.push(range);
  }
  return rows;
}

Deno.test("the tour runs the four clients and draws their table, timelines and page", async () => {
  const page = await Deno.makeTempFile({ suffix: ".html" });
  const tour = new ScriptProcess("tools/demo.ts", ["--scale", "0.05", "--html", page], {
    permissions: PERMISSIONS,
  });
  const outcome = await tour.finished(60_000);
  const lines = outcome.lines.map((line) => line.text);
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.equal(outcome.stderr, "");
  assert.ok(lines.includes(`The four runs drawn side by side, from their traces: ${page}`));
  const html = Deno.readTextFileSync(page);
  await Deno.remove(page);
  assert.equal(html.match(/<svg /g)?.length, 4);
  for (const client of ["blocking client", "async client", "reactor client", "broken client"]) {
    assert.ok(html.includes(`the ${client} (`), client);
  }
  assert.match(html, /Figure 7 \(doRead\), gone wrong/);

  const ports = servedPorts(lines);
  assert.equal(ports.length, 3);
  for (const part of ["Part 2: the blocking client", "Part 2: the async client"]) {
    assert.ok(lines.includes(`== ${part} ==`), part);
  }
  assert.ok(lines.includes("  Task 1: 3003 bytes of poetry"), "the async client's summary");
  assert.ok(lines.includes("  Task 1: 2968 characters of poetry"), "the reactor clients' summary");

  const table = lines.slice(lines.indexOf("== What each client did ==") + 1);
  for (const client of ["blocking client", "async client", "reactor client", "broken client"]) {
    const row = table.find((line) => line.startsWith(client));
    assert.ok(row, `no row for the ${client}`);
    assert.match(row, new RegExp(`^${client} +\\d+\\.\\d\\d s +3 +${POEM_BYTES}$`));
  }

  // The blocking client's tasks one after another: each starts where the last ended.
  const blocking = timeline(lines, "blocking client");
  assert.equal(blocking.length, 3);
  for (let task = 1; task < blocking.length; task++) {
    assert.ok(blocking[task][0] >= blocking[task - 1][1], `blocking: ${JSON.stringify(blocking)}`);
  }
  // The asynchronous clients' tasks side by side: all start at once and overlap.
  for (const client of ["async client", "reactor client"]) {
    const rows = timeline(lines, client);
    assert.equal(rows.length, 3);
    for (const [first, last] of rows) {
      assert.ok(first <= 5, `${client} starts late: ${JSON.stringify(rows)}`);
      assert.ok(last >= 30, `${client} ends early: ${JSON.stringify(rows)}`);
    }
  }
  await assertNothingListens(ports);
});

Deno.test("Ctrl-C stops the tour and its servers", async () => {
  const tour = new ScriptProcess("tools/demo.ts", [], { permissions: PERMISSIONS });
  await tour.waitForLine((line) => line.startsWith("  Task 1: get poetry from:"), 20_000);
  const ports = servedPorts(tour.lines.map((line) => line.text));
  tour.kill("SIGINT");
  const outcome = await tour.finished(10_000);
  assert.equal(outcome.code, 130);
  assert.ok(outcome.lines.some((line) => line.text.startsWith("Interrupted")));
  await assertNothingListens(ports);
});

Deno.test("a port already taken is a one-line error", async () => {
  const blocker = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (blocker.addr as Deno.NetAddr).port;
    const tour = new ScriptProcess("tools/demo.ts", ["--fast", "--base-port", String(port)], {
      permissions: PERMISSIONS,
    });
    const outcome = await tour.finished(20_000);
    assert.equal(outcome.code, 1);
    // --fast: a tenth of 0.1 s, printed as a person would write it.
    assert.deepEqual(outcome.lines.map((line) => line.text), [
      "Starting three slow poetry servers (a chunk every 0.01 s):",
    ]);
    const errors = outcome.stderr.trim().split("\n");
    assert.equal(errors.length, 1, outcome.stderr);
    assert.match(errors[0], /^demo\.ts: error: the server of poetry\/ecstasy\.txt did not start: /);
    assert.match(errors[0], /Address already in use/);
  } finally {
    blocker.close();
  }
});

Deno.test("`deno task demo fast` (no dashes) is refused: one line, exit 2, no servers", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "demo", "fast"],
    cwd: ROOT,
    stdin: "null",
    signal: AbortSignal.timeout(20_000), // refused at once; a tour that starts is cut short
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(stdout, "", "the tour started");
  assert.equal(output.code, 2, stderr);
  // `deno task` echoes the command it runs; the tour's own error is the last line.
  assert.equal(
    stderr.trimEnd().split("\n").at(-1),
    "demo.ts: error: Unexpected argument 'fast': the tour takes only options, such as --fast.",
  );
});
