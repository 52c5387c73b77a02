/**
 * The installed reactor: one object, shared by every importer; the default
 * (select) installed by the first import of mod.ts; another installed only
 * before that import; LoopingCall's default clock. The cases that need a
 * fresh program run `deno eval` in a child process.
 */

import assert from "node:assert/strict";
import { reactor } from "../lib/reactor/mod.ts";
import * as again from "../lib/reactor/mod.ts";
import { getInstalledReactor } from "../lib/reactor/base.ts";
import { ReactorAlreadyInstalledError } from "../lib/reactor/error.ts";
import { install as installPoll } from "../lib/reactor/poll.ts";
import { install as installSelect, SelectReactor } from "../lib/reactor/select.ts";
import { LoopingCall } from "../lib/reactor/task.ts";

const MOD = new URL("../lib/reactor/mod.ts", import.meta.url).href;
const POLL = new URL("../lib/reactor/poll.ts", import.meta.url).href;

/** Runs TypeScript in a fresh Deno and returns its stdout lines, failing on a non-zero exit. */
async function evalInChild(code: string): Promise<string[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, `child failed: ${stderr}`);
  return new TextDecoder().decode(output.stdout).trim().split("\n");
}

Deno.test("importing mod.ts installs the select reactor, one object for every importer", () => {
  assert.ok(reactor instanceof SelectReactor);
  assert.equal(again.reactor, reactor);
  assert.equal(getInstalledReactor(), reactor);
});

Deno.test("install() after the reactor is installed throws ReactorAlreadyInstalledError", () => {
  assert.throws(() => installPoll(), ReactorAlreadyInstalledError);
  assert.throws(() => installSelect(), /reactor already installed/);
  assert.equal(getInstalledReactor(), reactor);
});

Deno.test("LoopingCall's clock is the installed reactor unless set", () => {
  const loop = new LoopingCall(() => {});
  assert.equal(loop.clock, reactor);
});

Deno.test("install, then a dynamic import of mod.ts: the poll reactor is the reactor", async () => {
  const lines = await evalInChild(`
    const { install, PollReactor } = await import(${JSON.stringify(POLL)});
    const installed = install();
    const { reactor } = await import(${JSON.stringify(MOD)});
    console.log(reactor === installed, reactor instanceof PollReactor);
  `);
  assert.deepEqual(lines, ["true true"]);
});

Deno.test("with static imports, mod.ts runs first: installing poll afterwards fails", async () => {
  const lines = await evalInChild(`
    import { install } from ${JSON.stringify(POLL)};
    import { reactor } from ${JSON.stringify(MOD)};
    try {
      install();
      console.log("installed");
    } catch (error) {
      console.log(reactor.constructor.name, (error as Error).name);
    }
  `);
  assert.deepEqual(lines, ["SelectReactor ReactorAlreadyInstalledError"]);
});

Deno.test("a LoopingCall asked for its clock with no reactor installed installs the default", async () => {
  const lines = await evalInChild(`
    const { LoopingCall } = await import(${
    JSON.stringify(new URL("../lib/reactor/task.ts", import.meta.url).href)
  });
    const { getInstalledReactor } = await import(${
    JSON.stringify(new URL("../lib/reactor/base.ts", import.meta.url).href)
  });
    console.log(getInstalledReactor() === undefined);
    const clock = new LoopingCall(() => {}).clock; // installs the default reactor
    const { reactor } = await import(${JSON.stringify(MOD)});
    console.log(clock === reactor, reactor.constructor.name);
  `);
  assert.deepEqual(lines, ["true", "true SelectReactor"]);
});
