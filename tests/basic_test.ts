/**
 * The Part 3 lesson scripts (basic/), run as the reader runs them: their
 * output lines, their exit status, the idle reactor's CPU use, and Ctrl-C
 * (SIGINT) stopping a running reactor gracefully.
 */

import assert from "node:assert/strict";
import { type Outcome, runScript, ScriptProcess } from "../tools/process.ts";

const MOD = new URL("../lib/reactor/mod.ts", import.meta.url).href;
const POLL = new URL("../lib/reactor/poll.ts", import.meta.url).href;
const onLinux = Deno.build.os === "linux";

/** The CPU time (user + system) a process has used so far, in clock ticks, from /proc. */
function cpuTicks(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // Fields after the command name (which may hold spaces) start at field 3.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime, stime
}

async function clockTicksPerSecond(): Promise<number> {
  const output = await new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped" }).output();
  const ticks = Number(new TextDecoder().decode(output.stdout).trim());
  return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes a throwaway program that uses the reactor, and returns its path. */
async function writeProgram(source: string): Promise<string> {
  const directory = await Deno.makeTempDir({ prefix: "reactor-test-" });
  const path = `${directory}/program.ts`;
  await Deno.writeTextFile(path, source);
  return path;
}

/**
 * Runs a throwaway program and sends it Ctrl-C (SIGINT) once for each cue, when it has
 * printed that line; returns how it ended.
 */
async function interruptOnCues(source: string, ...cues: string[]): Promise<Outcome> {
  const child = new ScriptProcess(await writeProgram(source), []);
  for (const cue of cues) {
    await child.waitForLine((line) => line === cue);
    child.kill("SIGINT");
  }
  return await child.finished(10_000);
}

Deno.test("hello.ts prints its three lines, then idles until Ctrl-C", async () => {
  const hello = new ScriptProcess("basic/hello.ts", []);
  await hello.waitForLine((line) => line.startsWith("Lately"));
  await sleep(200);
  hello.kill("SIGINT");
  const outcome = await hello.finished(10_000);
  assert.deepEqual(outcome.lines.map((line) => line.text), [
    "Starting the reactor.",
    "Hello from the reactor loop!",
    "Lately I feel like I'm stuck in a rut.",
  ]);
  assert.equal(outcome.code, 0);
  assert.equal(outcome.stderr, "");
});

Deno.test("countdown.ts: Start!, 5 ... to 1 ... a second apart, Stop!, exit 0", async () => {
  const outcome = await runScript("basic/countdown.ts", [], 20_000);
  const texts = outcome.lines.map((line) => line.text);
  assert.deepEqual(texts, ["Start!", "5 ...", "4 ...", "3 ...", "2 ...", "1 ...", "Stop!"]);
  assert.equal(outcome.code, 0);
  assert.equal(outcome.stderr, "");
  // "5 ..." comes at once; then one line per callLater(1, ...): equal gaps.
  const at = outcome.lines.map((line) => line.at);
  const gaps = at.slice(2).map((time, index) => time - at[index + 1]);
  const mean = gaps.reduce((sum, gap) => sum + gap, 0) / gaps.length;
  for (const gap of gaps) assert.ok(gap > mean * 0.5 && gap < mean * 1.5, `gaps ${gaps}`);
  assert.ok(at[1] - at[0] < mean * 0.5, "the first count comes as soon as the loop runs");
});

Deno.test("exception.ts: the error and its stack on stderr, then the next callback, exit 0", async () => {
  const outcome = await runScript("basic/exception.ts", [], 20_000);
  assert.deepEqual(outcome.lines.map((line) => line.text), [
    "Starting the reactor.",
    "But I get up again.",
  ]);
  assert.equal(outcome.code, 0);
  assert.match(outcome.stderr, /^Unhandled Error\nError: I fall down\.\n/);
  assert.match(outcome.stderr, /\n\s+at .*falldown.*basic\/exception\.ts:\d+:\d+/);
  assert.match(outcome.stderr, /\n\s+at .*Reactor\.run /);
});

Deno.test("stack.ts: run() first, the reactor's frames, our callback last", async () => {
  const stack = new ScriptProcess("basic/stack.ts", []);
  await stack.waitForLine((line) => /at stack \(.*basic\/stack\.ts/.test(line));
  await sleep(100);
  stack.kill("SIGINT");
  const outcome = await stack.finished(10_000);
  assert.equal(outcome.code, 0);
  const [heading, ...frames] = outcome.lines.map((line) => line.text);
  assert.equal(heading, "The stack, outermost call first:");
  assert.match(frames[0], /at file:\/\/.*basic\/stack\.ts:\d+:\d+/, "the script's own top level");
  assert.match(frames[1], /at SelectReactor\.run \(/, "then run()");
  const last = frames[frames.length - 1];
  assert.match(last, /at stack \(.*basic\/stack\.ts/, "the callback last");
  const between = frames.slice(2, -1);
  assert.ok(between.length >= 2, frames.join("\n"));
  for (const frame of between) assert.match(frame, /lib\/reactor\//, "reactor frames between");
});

for (const script of ["basic/simple.ts", "basic/simple-poll.ts"]) {
  Deno.test({
    name: `${script} uses no CPU while idle (under 1 %), and Ctrl-C ends it`,
    ignore: !onLinux,
    fn: async () => {
      const ticksPerSecond = await clockTicksPerSecond();
      const simple = new ScriptProcess(script, []);
      await sleep(1500); // past start-up, into the idle wait
      const before = cpuTicks(simple.pid);
      const start = performance.now();
      await sleep(3000);
      const used = (cpuTicks(simple.pid) - before) / ticksPerSecond;
      const elapsed = (performance.now() - start) / 1000;
      simple.kill("SIGINT");
      const outcome = await simple.finished(10_000);
      assert.ok(used / elapsed < 0.01, `used ${used} s of CPU in ${elapsed.toFixed(1)} s`);
      assert.equal(outcome.code, 0, `stderr: ${outcome.stderr}`);
      assert.deepEqual(outcome.lines, []);
      assert.equal(outcome.stderr, "");
    },
  });
}

Deno.test("simple-poll.ts really runs the poll reactor", async () => {
  // The script itself prints nothing; check what its recipe installs.
  const source = await Deno.readTextFile(new URL("../basic/simple-poll.ts", import.meta.url));
  const installAt = source.indexOf("install();");
  const importAt = source.indexOf('await import("../lib/reactor/mod.ts")');
  assert.ok(installAt > 0 && importAt > installAt, "installs, then imports");
  assert.doesNotMatch(source, /^import .*reactor\/mod\.ts/m, "no static import of mod.ts");
  const program = await writeProgram(`
    import { install, PollReactor } from ${JSON.stringify(POLL)};
    install();
    const { reactor } = await import(${JSON.stringify(MOD)});
    console.log(reactor instanceof PollReactor);
  `);
  const outcome = await runScript(program, [], 20_000);
  assert.deepEqual(outcome.lines.map((line) => line.text), ["true"]);
});

for (const flavour of ["select", "poll"]) {
  Deno.test(`Ctrl-C stops a running ${flavour} reactor gracefully`, async () => {
    const outcome = await interruptOnCues(
      `
      ${flavour === "poll" ? `(await import(${JSON.stringify(POLL)})).install();` : ""}
      const { reactor } = await import(${JSON.stringify(MOD)});
      reactor.addSystemEventTrigger("before", "shutdown", () => console.log("before shutdown"));
      reactor.addSystemEventTrigger("after", "shutdown", () => console.log("after shutdown"));
      reactor.callWhenRunning(() => console.log("running"));
      reactor.callLater(60, () => console.log("never"));
      await reactor.run();
      console.log("code after run()");
    `,
      "running",
    );
    assert.deepEqual(outcome.lines.map((line) => line.text), [
      "running",
      "before shutdown",
      "after shutdown",
      "code after run()",
    ]);
    assert.equal(outcome.code, 0);
    assert.equal(outcome.stderr, "");
    assert.ok(outcome.lines[3].at - outcome.lines[0].at < 5000, "at once, not after the timer");
  });
}

Deno.test("once run() has settled, Ctrl-C is the runtime's again: it ends the program", async () => {
  const outcome = await interruptOnCues(
    `
    const { reactor } = await import(${JSON.stringify(MOD)});
    reactor.callWhenRunning(() => reactor.stop());
    await reactor.run();
    console.log("stopped");
    setTimeout(() => console.log("never"), 30_000);
  `,
    "stopped",
  );
  assert.deepEqual(outcome.lines.map((line) => line.text), ["stopped"]);
  assert.equal(outcome.signal, "SIGINT");
});

Deno.test("a second Ctrl-C ends a shutdown that hangs", async () => {
  const outcome = await interruptOnCues(
    `
    const { reactor } = await import(${JSON.stringify(MOD)});
    reactor.addSystemEventTrigger("before", "shutdown", () => {
      console.log("shutting down, slowly");
      return new Promise(() => {}); // never settles
    });
    reactor.addSystemEventTrigger("after", "shutdown", () => console.log("never"));
    reactor.callWhenRunning(() => console.log("running"));
    await reactor.run();
    console.log("code after run()");
  `,
    "running",
    "shutting down, slowly",
  );
  assert.deepEqual(outcome.lines.map((line) => line.text), [
    "running",
    "shutting down, slowly",
    "code after run()",
  ]);
  assert.equal(outcome.code, 0);
});

for (const script of ["simple", "simple-poll", "hello", "stack", "countdown", "exception"]) {
  Deno.test(`basic/${script}.ts: --help, and a clear one-line error for a bad option or argument`, async () => {
    const help = await runScript(`basic/${script}.ts`, ["--help"], 20_000);
    assert.equal(help.code, 0);
    assert.match(help.lines[0].text, new RegExp(`^usage: ${script}\\.ts`));
    const bad = await runScript(`basic/${script}.ts`, ["--bogus"], 20_000);
    assert.equal(bad.code, 2);
    assert.deepEqual(bad.lines, []);
    assert.match(bad.stderr, new RegExp(`^${script}\\.ts: error: .*bogus.*\\n$`));
    const extra = await runScript(`basic/${script}.ts`, ["10000"], 20_000);
    assert.equal(extra.code, 2);
    assert.equal(extra.stderr, `${script}.ts: error: This script takes no arguments.\n`);
  });
}

Deno.test("each basic/ script is at most three code lines longer than the article's original", () => {
  // Code lines of the Python originals in the article (blank lines and comments aside).
  const ORIGINAL_LINES: Record<string, number> = {
    "simple": 2,
    "simple-poll": 4,
    "hello": 7,
    "stack": 7,
    "countdown": 13,
    "exception": 10,
  };
  for (const [script, original] of Object.entries(ORIGINAL_LINES)) {
    const source = Deno.readTextFileSync(new URL(`../basic/${script}.ts`, import.meta.url));
    const code = source
      .replace(/\/\*[\s\S]*?\*\//g, "") // block and doc comments
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.startsWith("//") && !line.startsWith("#!"))
      .filter((line) => !/^[\])};,]+$/.test(line)); // a lone closing brace is Python's dedent
    assert.ok(
      code.length <= original + 3,
      `basic/${script}.ts: ${code.length} code lines, the original ${original}:\n${
        code.join("\n")
      }`,
    );
  }
});
