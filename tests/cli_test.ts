import assert from "node:assert/strict";
import {
  DEFAULT_HOST,
  formatAddress,
  parseAddress,
  parseAddresses,
  parsePort,
} from "../lib/address.ts";
import { helpText, parseNumber, readableFile, UsageError } from "../lib/cli.ts";
import { formatDuration, parseDuration, startStopwatch } from "../lib/duration.ts";
import { parsePoemsLine } from "../tools/client_output.ts";
import { repoPath, runScript } from "../tools/process.ts";

Deno.test("parsePort accepts 0 to 65535", () => {
  assert.equal(parsePort("0"), 0);
  assert.equal(parsePort("10000"), 10000);
  assert.equal(parsePort("65535"), 65535);
  assert.equal(parsePort("010"), 10);
});

Deno.test("parsePort rejects what is not a port", () => {
  for (const text of ["", "ten", "+5", " 5", "5.0", "1e3", "0x10", "-1.5"]) {
    assert.throws(() => parsePort(text), new UsageError("Ports must be integers."), text);
  }
  assert.throws(() => parsePort("65536"), /between 0 and 65535, not 65536/);
  assert.throws(
    () => parsePort("-1"),
    new UsageError("Ports must be between 0 and 65535, not -1."),
  );
  assert.throws(() => parsePort("99999999999999999999"), UsageError);
});

Deno.test("parseAddress: a bare port means 127.0.0.1", () => {
  assert.equal(DEFAULT_HOST, "127.0.0.1");
  assert.deepEqual(parseAddress("10000"), ["127.0.0.1", 10000]);
  assert.deepEqual(parseAddress(":10001"), ["127.0.0.1", 10001]);
  assert.deepEqual(parseAddress("localhost:10002"), ["localhost", 10002]);
  assert.deepEqual(parseAddress("10.0.0.7:7"), ["10.0.0.7", 7]);
  assert.deepEqual(parseAddress("[::1]:10003"), ["::1", 10003]);
});

Deno.test("parseAddress rejects bad ports", () => {
  assert.throws(() => parseAddress("localhost"), /Ports must be integers\./);
  assert.throws(() => parseAddress("localhost:"), /Ports must be integers\./);
  assert.throws(() => parseAddress("host:port"), /Ports must be integers\./);
  assert.throws(() => parseAddress("127.0.0.1:70000"), /between 0 and 65535/);
});

Deno.test("parseAddresses wants at least one address", () => {
  assert.deepEqual(parseAddresses(["10000", "[::1]:1"]), [["127.0.0.1", 10000], ["::1", 1]]);
  assert.throws(
    () => parseAddresses([]),
    new UsageError("Provide at least one server address."),
  );
  assert.throws(() => parseAddresses(["10000", "x"]), /Ports must be integers\./);
});

Deno.test("readableFile accepts a file, and names what is wrong otherwise", () => {
  const poem = repoPath("poetry/science.txt");
  assert.equal(readableFile(poem), poem);
  const missing = repoPath("poetry/none.txt");
  assert.throws(() => readableFile(missing), new UsageError(`No such file: ${missing}`));
  assert.throws(
    () => readableFile(repoPath("poetry")),
    new UsageError(`Not a file: ${repoPath("poetry")}`),
  );
});

Deno.test("formatAddress gives HOST:PORT and round-trips with parseAddress", () => {
  assert.equal(formatAddress(["127.0.0.1", 10000]), "127.0.0.1:10000");
  assert.equal(formatAddress(["::1", 10003]), "[::1]:10003");
  for (const text of ["127.0.0.1:1", "example.org:65535", "[::1]:0"]) {
    assert.equal(formatAddress(parseAddress(text)), text);
  }
});

Deno.test("formatDuration prints what Python's str(timedelta(seconds=...)) prints", () => {
  // Expected values produced by Python 3's datetime.timedelta.
  const cases: [number, string][] = [
    [0, "0:00:00"],
    [10.126361, "0:00:10.126361"],
    [23.065661, "0:00:23.065661"],
    [0.5, "0:00:00.500000"],
    [4e-7, "0:00:00"],
    [5e-7, "0:00:00"],
    [1e-6, "0:00:00.000001"],
    [1.5e-6, "0:00:00.000002"],
    [59.9999996, "0:01:00"],
    [3723, "1:02:03"],
    [36000, "10:00:00"],
    [93784, "1 day, 2:03:04"],
    [86399.9999999, "1 day, 0:00:00"],
    [172800.000001, "2 days, 0:00:00.000001"],
    [-1, "-1 day, 23:59:59"],
    [-1e-6, "-1 day, 23:59:59.999999"],
  ];
  for (const [seconds, expected] of cases) {
    assert.equal(formatDuration(seconds), expected, String(seconds));
  }
});

Deno.test("parseNumber reads delays and byte counts", () => {
  assert.equal(parseNumber("0.1", "--delay", { min: 0 }), 0.1);
  assert.equal(parseNumber("5", "--delay", { min: 0 }), 5);
  assert.equal(parseNumber(".25", "--delay"), 0.25);
  assert.equal(parseNumber("0", "--delay", { min: 0 }), 0);
  assert.equal(parseNumber("30", "--num-bytes", { integer: true, min: 1 }), 30);
  assert.throws(
    () => parseNumber("", "--delay"),
    new UsageError("--delay must be a number, not ''."),
  );
  assert.throws(() => parseNumber("abc", "--delay"), /--delay must be a number, not 'abc'/);
  assert.throws(() => parseNumber("Infinity", "--delay"), UsageError);
  assert.throws(() => parseNumber("-1", "--delay", { min: 0 }), /--delay must be at least 0/);
  assert.throws(
    () => parseNumber("2.5", "--num-bytes", { integer: true }),
    /--num-bytes must be an integer, not '2.5'/,
  );
  assert.throws(() => parseNumber("0", "--num-bytes", { integer: true, min: 1 }), /at least 1/);
});

Deno.test("helpText lists the usage, the description and the options", () => {
  const text = helpText({
    usage: "[options] POETRY-FILE",
    description: "\nServes a poem.\n",
    options: {
      port: { metavar: "N", help: "the port", default: "0" },
      iface: { metavar: "HOST", help: "where" },
    },
  });
  const lines = text.split("\n");
  assert.match(lines[0], /^usage: \S+ \[options\] POETRY-FILE$/);
  assert.equal(lines[2], "Serves a poem.");
  assert.ok(lines.some((line) => /^ {2}--port N +the port \(default: 0\)$/.test(line)), text);
  assert.ok(lines.some((line) => /^ {2}--iface HOST +where$/.test(line)), text);
  assert.ok(lines.some((line) => /^ {2}-h, --help +/.test(line)), text);
});

Deno.test("startStopwatch measures elapsed seconds", async () => {
  const elapsed = startStopwatch();
  const first = elapsed();
  assert.ok(first >= 0 && first < 0.05, String(first));
  await new Promise((resolve) => setTimeout(resolve, 60));
  const second = elapsed();
  assert.ok(second >= 0.055 && second < 5, String(second));
});

const FIXTURE = "tests/helpers/cli_fixture.ts";

Deno.test("parseCommandLine: options before and after positionals, defaults", async () => {
  const outcome = await runScript(FIXTURE, ["10000", "--name", "x", "example.org:1", "--delay=2"]);
  assert.equal(outcome.stderr, "");
  assert.equal(outcome.code, 0);
  assert.deepEqual(JSON.parse(outcome.lines[0].text), {
    delay: 2,
    name: "x",
    fail: null,
    addresses: [["127.0.0.1", 10000], ["example.org", 1]],
  });
  const defaults = await runScript(FIXTURE, ["1"]);
  assert.deepEqual(JSON.parse(defaults.lines[0].text), {
    delay: 0.1,
    name: null,
    fail: null,
    addresses: [["127.0.0.1", 1]],
  });
});

Deno.test("parseCommandLine: --help and -h print the help and exit 0", async () => {
  for (const flag of ["--help", "-h"]) {
    const outcome = await runScript(FIXTURE, [flag]);
    assert.equal(outcome.code, 0);
    assert.equal(outcome.stderr, "");
    const text = outcome.lines.map((line) => line.text).join("\n");
    assert.match(text, /^usage: cli_fixture\.ts \[options\] \[HOST:\]PORT \.\.\.\n/);
    assert.match(text, /Prints its settings as JSON\./);
    assert.match(text, /--delay S +a delay \(default: 0\.1\)/);
  }
});

Deno.test("parseCommandLine: usage mistakes are one stderr line and exit 2", async () => {
  const cases: [string[], string][] = [
    [[], "Provide at least one server address."],
    [["--bogus", "1"], "Unknown option '--bogus'."],
    [["1", "--delay", "-1"], "--delay must be at least 0, not -1."],
    [["1", "--delay", "-.5"], "--delay must be at least 0, not -.5."],
    [["1", "--delay=-1"], "--delay must be at least 0, not -1."],
    [["1", "--name"], "Option '--name <value>' argument missing"],
    [["ten"], "Ports must be integers."],
    [["1", "--delay", "soon"], "--delay must be a number, not 'soon'."],
  ];
  for (const [args, message] of cases) {
    const outcome = await runScript(FIXTURE, args);
    assert.equal(outcome.code, 2, args.join(" "));
    assert.deepEqual(outcome.lines, []);
    const lines = outcome.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, outcome.stderr);
    assert.equal(lines[0], `cli_fixture.ts: error: ${message}`);
  }
});

Deno.test("fail prints NAME: error: MESSAGE and exits with the code given", async () => {
  for (const code of [1, 3]) {
    const outcome = await runScript(FIXTURE, ["1", "--fail", String(code)]);
    assert.equal(outcome.code, code);
    assert.equal(outcome.stderr, "cli_fixture.ts: error: it went wrong\n");
    assert.deepEqual(outcome.lines, []);
  }
});

Deno.test("parseDuration reads what formatDuration prints; parsePoemsLine reads a client's last line", () => {
  for (const seconds of [0, 10.126361, 23.065661, 3723, 86401.5]) {
    assert.equal(parseDuration(formatDuration(seconds)), seconds);
  }
  assert.throws(() => parseDuration("ten seconds"), /not a duration/);
  assert.deepEqual(parsePoemsLine("Got 3 poems in 0:00:23.065661"), {
    poems: 3,
    seconds: 23.065661,
  });
  assert.equal(parsePoemsLine("Task 1: 3003 bytes of poetry"), null);
});
