/**
 * `deno task trace` and what it is made of: the reading of trace files, the account,
 * the page (in a real browser: Debian's chromium-headless-shell driven by
 * puppeteer-core, launched once for this file), the Trace Event Format JSON, and
 * real traced runs of the lessons against fast slow-poetry servers.
 *
 * @module
 */

import assert from "node:assert/strict";
import puppeteer from "npm:puppeteer-core@25";
import { repoPath, ROOT, type ServerSpec, startServers } from "../tools/process.ts";
import { serverSeconds } from "./part4_helpers.ts";
import { withDeadline } from "./helpers/deadline.ts";
import type { TraceEvent } from "../lib/trace/mod.ts";
import { accountOf, holdingSentences } from "../tools/trace/account.ts";
import { idleSinceUs, modelOfRun, parseTrace, type RunModel } from "../tools/trace/read.ts";
import { MARKS_DRAWN_ONE_BY_ONE, pageOf } from "../tools/trace/page.ts";
import { runTraced, type TracedRun, traceEventFormat } from "../tools/trace/run.ts";

const BROWSER = "/usr/bin/chromium-headless-shell";

/** Synthetic events on the main lane, for the tests that need no real run. */
function event(
  name: string,
  cat: string,
  ph: TraceEvent["ph"],
  ts: number,
  args?: Record<string, unknown>,
  dur?: number,
): TraceEvent {
  return { name, cat, ph, ts, pid: 1, tid: 1, args, ...(dur === undefined ? {} : { dur }) };
}

/** What makes an object a valid Trace Event Format file, as Perfetto reads it. */
function assertTraceEventFormat(text: string): void {
  const parsed = JSON.parse(text) as { traceEvents: TraceEvent[] };
  assert.ok(Array.isArray(parsed.traceEvents), "a traceEvents array");
  const phases = new Set(["B", "E", "X", "i", "C", "M"]);
  for (const item of parsed.traceEvents) {
    assert.equal(typeof item.name, "string");
    assert.ok(phases.has(item.ph), `phase ${item.ph}`);
    assert.equal(typeof item.ts, "number");
    assert.equal(typeof item.pid, "number");
    assert.equal(typeof item.tid, "number");
    if (item.ph === "X") assert.ok(typeof item.dur === "number" && item.dur >= 0, "X has dur");
  }
  const threadNames = parsed.traceEvents.filter((item) => item.name === "thread_name");
  assert.ok(threadNames.some((item) => item.args?.name === "main thread"));
  const begins = parsed.traceEvents.filter((item) => item.ph === "B").length;
  const ends = parsed.traceEvents.filter((item) => item.ph === "E").length;
  assert.ok(ends <= begins && begins - ends <= 1, `B ${begins} and E ${ends} pair up`);
}

Deno.test("parseTrace reads an unterminated file, a cut last line, and a whole object", () => {
  const lines = [
    "[",
    JSON.stringify(event("run", "reactor", "i", 1, { reactor: "SelectReactor" })) + ",",
    JSON.stringify(event("wait", "reactor", "B", 2, { readers: [], writers: [], timeout: null })) +
    ",",
    '{"name":"wait","cat":"reac',
  ];
  const events = parseTrace(lines.join("\n"));
  assert.deepEqual(events.map((item) => item.name), ["run", "wait"]);
  const run = modelOfRun(events);
  assert.equal(idleSinceUs(run), 2, "a live trace whose reactor waits on nothing, for good");
  const whole = traceEventFormat(events, run, "x");
  assert.deepEqual(parseTrace(whole).filter((item) => item.ph !== "M").length, 2);
  assertTraceEventFormat(whole);
});

Deno.test("the account names a blocking socket call inside a callback, and what fell due meanwhile", () => {
  const events = [
    event("run", "reactor", "i", 0, { reactor: "SelectReactor" }),
    event("schedule", "delayed", "i", 10, {
      call: 1,
      label: "Countdown.count",
      delayS: 0.5,
      dueUs: 500_000,
    }),
    event("doRead of PoetrySocket (Task 1)", "callback", "X", 100, {
      kind: "doRead",
      target: "PoetrySocket",
      task: 1,
      fd: 3,
      outcome: "ok",
    }, 2_000_000),
    event("recv", "socket", "B", 200, { fd: 3, blocking: true }),
    event("recv", "socket", "E", 1_900_200, { fd: 3, bytes: 600 }),
    event("wait", "reactor", "B", 2_000_200, { readers: [4], writers: [], timeout: 0 }),
    event("wait", "reactor", "E", 2_000_300, { readable: [4], writable: [] }),
    event("Countdown.count", "callback", "X", 2_000_400, {
      kind: "delayedCall",
      call: 1,
      dueUs: 500_000,
      lateUs: 1_500_400,
    }, 50),
  ];
  const run = modelOfRun(events);
  assert.deepEqual(holdingSentences(run), [
    "doRead of PoetrySocket (Task 1) held the reactor 2.00 s (1.90 s of it blocked in recv); " +
    "meanwhile 1 other reader became ready, and 1 delayed call fell due (Countdown.count)",
  ]);
  const account = accountOf(run, { code: 0 });
  assert.ok(account.includes("  Countdown.count: due at 0.50 s, ran at 2.00 s, 1.50 s late"));
  assert.ok(account.at(-1) === "the program exited with status 0");
  const page = pageOf(run, { title: "synthetic" });
  assert.match(page, /data-blocking="true"/);
  assert.match(
    page,
    /blocked in recv on fd 3 for 1\.90 s, 600 bytes, inside doRead of PoetrySocket/,
  );
});

Deno.test("a program without a reactor is told from its socket events, and drawn as Figure 1", () => {
  const events: TraceEvent[] = [];
  let ts = 0;
  for (const fd of [3, 4]) {
    for (let read = 0; read < 3; read++) {
      events.push(event("recv", "socket", "B", ts, { fd, blocking: true }));
      ts += 100_000;
      events.push(event("recv", "socket", "E", ts, { fd, bytes: 10 }));
      events.push({ ...event("recv", "socket", "i", ts, { fd, bytes: 10 }), tid: 1000 + fd });
    }
  }
  const run = modelOfRun(events);
  const account = accountOf(run, { code: 0 });
  assert.equal(
    account[0],
    "no reactor ran; 600 ms recorded, 600 ms of it blocked in 6 socket calls",
  );
  assert.ok(account.includes("  fd 3: 30 bytes in (3 recvs), 0 bytes out, from 0.10 s to 0.60 s"));
  assert.match(pageOf(run, { title: "blocking" }), /Part 1, Figure 1: the synchronous model/);
});

Deno.test("a descriptor number reused after a close gets a lane per socket; select waits are grey", () => {
  const events: TraceEvent[] = [];
  const onLane = (item: TraceEvent) => ({ ...item, tid: 1003 });
  for (const [start, bytes] of [[0, 653], [1_000_000, 623]]) {
    events.push(onLane(event("open", "socket", "i", start, { fd: 3 })));
    events.push(event("recv", "socket", "B", start + 10, { fd: 3, blocking: true }));
    events.push(event("recv", "socket", "E", start + 900_000, { fd: 3, bytes }));
    events.push(onLane(event("recv", "socket", "i", start + 900_000, { fd: 3, bytes })));
    events.push(onLane(event("close", "socket", "i", start + 900_100, { fd: 3 })));
  }
  events.push(event("select", "socket", "B", 2_000_000, { readers: [3], blocking: true }));
  events.push(event("select", "socket", "E", 2_100_000, { readable: [] }));
  const run = modelOfRun(events);
  assert.deepEqual(run.sockets.map((lane) => [lane.fd, lane.bytesIn]), [[3, 653], [3, 623]]);
  const page = pageOf(run, { title: "reuse" });
  const lanes = page.split('<g class="lane"').slice(1);
  assert.equal(lanes.length, 3, "main thread and two lanes");
  for (const lane of lanes.slice(1)) {
    assert.equal(lane.match(/class="mark blocking"/g)?.length, 1, "only its own socket's recv");
  }
  assert.match(lanes[0], /class="mark wait"[^>]*><title>blocked in select/);
});

/** Runs `deno task trace`'s script with `args`, in `directory`. */
async function traceTool(directory: string, args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-R", "-W", "--allow-run", "--allow-env", `${ROOT}/tools/trace.ts`, ...args],
    cwd: directory,
    env: { INIT_CWD: directory },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

Deno.test("deno task trace: a missing script is one line and exit 2; a crash still gets its account, page and JSON", async () => {
  const directory = await Deno.makeTempDir();
  try {
    const missing = await traceTool(directory, ["nothere.ts"]);
    assert.equal(missing.code, 2);
    assert.deepEqual(missing.stderr.trim().split("\n"), [
      "trace: error: no such script: nothere.ts " +
      "(usage: deno task trace [--html FILE] [--json FILE] SCRIPT [ARGS...])",
    ]);
    Deno.writeTextFileSync(
      `${directory}/crash.ts`,
      'console.log("before");\nawait new Promise((resolve) => setTimeout(resolve, 10));\n' +
        'throw new RangeError("on purpose");\n',
    );
    const crash = await traceTool(directory, ["crash.ts"]);
    assert.equal(crash.code, 1);
    assert.equal(crash.stdout, "before\n", "the script's output passes through unchanged");
    assert.match(
      crash.stderr,
      /^an error nobody caught ended the program: RangeError: on purpose$/m,
    );
    assert.match(crash.stderr, /^the program exited with status 1$/m);
    assert.match(crash.stderr, new RegExp(`^wrote ${directory}/trace\\.html$`, "m"));
    assertTraceEventFormat(Deno.readTextFileSync(`${directory}/trace.json`));
    assert.match(Deno.readTextFileSync(`${directory}/trace.html`), /^<!DOCTYPE html>/);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

/** Starts fast slow-poetry servers for one traced client run, runs it, stops them. */
async function tracedClient(script: string, specs: ServerSpec[]): Promise<TracedRun> {
  const servers = await startServers(specs);
  try {
    return await withDeadline(
      runTraced(script, servers.map((server) => String(server.port)), { output: "piped" }),
      30_000,
      `traced ${script}`,
    );
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

const POEMS: ServerSpec[] = [
  { poetryFile: "poetry/ecstasy.txt", numBytes: 30, delay: 0.006 },
  { poetryFile: "poetry/fascination.txt", numBytes: 10, delay: 0.008 },
  { poetryFile: "poetry/science.txt", numBytes: 10, delay: 0.008 },
];

/** What the page's DOM gives the checks, typed by hand. */
interface PageNode {
  querySelectorAll(selector: string): Iterable<PageNode>;
  querySelector(selector: string): PageNode | null;
  getAttribute(name: string): string | null;
  readonly classList: ArrayLike<string>;
  readonly textContent: string | null;
}

/** The page in the browser: its console errors, and facts read from its SVG. */
interface PageFacts {
  errors: string[];
  main: { kind: string; us: number; title: string }[];
  lanes: string[];
  caption: string;
}

Deno.test("traced runs: the broken client holds the loop in doRead, the reactor client does not; countdown; Ctrl-C; the pages in a real browser", async (t) => {
  const countdown = runTraced(repoPath("basic/countdown.ts"), [], { output: "piped" });
  const broken = await tracedClient("twisted-client/get-poetry-broken.ts", POEMS);
  const reactorClient = await tracedClient("twisted-client/get-poetry.ts", POEMS);
  const slowest = Math.max(...POEMS.map(serverSeconds)) * 1e6;
  const doReadUs = (run: RunModel) =>
    run.callbacks.filter((callback) => callback.args.kind === "doRead").map((cb) => cb.durUs);

  await t.step("the broken client is named as holding the loop, for about the slowest poem", () => {
    assert.equal(broken.code, 0, broken.stderr);
    const holding = holdingSentences(broken.run);
    assert.ok(holding.length >= 1, accountOf(broken.run, broken).join("\n"));
    assert.match(holding[0], /^doRead of BrokenPoetrySocket \(Task \d\) held the reactor /);
    const total = doReadUs(broken.run).reduce((sum, us) => sum + us, 0);
    assert.ok(
      total > 0.7 * slowest && total < 2 * slowest,
      `doRead ${total} µs, slowest ${slowest}`,
    );
  });

  await t.step("the reactor client holds it nowhere: many short callbacks between waits", () => {
    assert.equal(reactorClient.code, 0, reactorClient.stderr);
    assert.deepEqual(holdingSentences(reactorClient.run), []);
    assert.ok(
      accountOf(reactorClient.run, reactorClient).includes(
        "no callback held the loop over 100 ms",
      ),
    );
    const reads = doReadUs(reactorClient.run);
    assert.ok(reads.length >= 30, `${reads.length} doRead calls`);
    assert.ok(reactorClient.run.waits.length >= reads.length / 3);
  });

  await t.step(
    "countdown: its delayed calls fire about a second apart, with their lateness",
    async () => {
      const traced = await withDeadline(countdown, 20_000, "traced countdown");
      assert.equal(traced.code, 0);
      const fired = traced.run.delayed.filter((life) => life.firedUs !== undefined);
      assert.equal(fired.length, 5);
      assert.ok(fired.every((life) => life.label === "count"), fired.map((l) => l.label).join());
      for (let index = 1; index < fired.length; index++) {
        const apart = (fired[index].firedUs ?? 0) - (fired[index - 1].firedUs ?? 0);
        assert.ok(apart > 900_000 && apart < 1_200_000, `${apart} µs apart`);
        assert.equal(fired[index].by, fired[index - 1].call, "each scheduled by the one before");
      }
      const account = accountOf(traced.run, traced);
      assert.match(account.join("\n"), /^5 delayed calls ran, \d of them over 10 ms late/m);
      assert.equal(account.filter((line) => /^ {2}count: due at .* late$/.test(line)).length, 5);
      assert.ok(
        account.some((line) =>
          /^the reactor stopped \(stop\(\) was called at 5\.\d\d s\) with nothing pending$/.test(
            line,
          )
        ),
      );
    },
  );

  await t.step("a reactor nobody stops, interrupted: nothing was watched or pending", async () => {
    const directory = await Deno.makeTempDir();
    try {
      const tool = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-R",
          "-W",
          "--allow-run",
          "--allow-env",
          `${ROOT}/tools/trace.ts`,
          "--html",
          `${directory}/idle.html`,
          "--json",
          `${directory}/idle.json`,
          repoPath("basic/simple.ts"),
        ],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      tool.kill("SIGINT");
      const output = await withDeadline(tool.output(), 10_000, "the interrupted trace");
      const text = new TextDecoder().decode(output.stderr);
      assert.match(
        text,
        /the reactor was interrupted \(Ctrl-C\) at \d+\.\d\d s while it still ran; from 0\.\d\d s on nothing was watched or pending/,
      );
      assert.match(text, /the program was interrupted \(Ctrl-C\)/);
      assertTraceEventFormat(Deno.readTextFileSync(`${directory}/idle.json`));
      assert.match(Deno.readTextFileSync(`${directory}/idle.html`), /stuck at its top/);
    } finally {
      await Deno.remove(directory, { recursive: true });
    }
  });

  await t.step("the JSON of real runs is valid Trace Event Format", () => {
    for (const traced of [broken, reactorClient]) {
      assertTraceEventFormat(traceEventFormat(traced.events, traced.run, "client"));
    }
  });

  const browser = await puppeteer.launch({ executablePath: BROWSER, args: ["--no-sandbox"] });
  try {
    const facts = async (html: string): Promise<PageFacts> => {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(message.text());
      });
      page.on("pageerror", (error) => errors.push(String(error)));
      page.on("requestfailed", (request) => errors.push(`request ${request.url()}`));
      await page.setContent(html, { waitUntil: "load" });
      const read = await page.evaluate(() => {
        // Runs in the page: its DOM, typed by hand (this file is not type-checked with "dom").
        const document = (globalThis as unknown as { document: PageNode }).document;
        const lanes = [...document.querySelectorAll("g.lane")];
        const main = lanes.find((lane) => lane.getAttribute("data-lane") === "main thread");
        return {
          main: [...(main?.querySelectorAll("rect.mark") ?? [])].map((rect) => ({
            kind: rect.classList[1],
            us: Number(rect.getAttribute("data-us")),
            title: rect.querySelector("title")?.textContent ?? "",
          })),
          lanes: lanes.map((lane) => lane.getAttribute("data-lane") ?? ""),
          caption: document.querySelector("figcaption")?.textContent ?? "",
        };
      });
      await page.close();
      return { errors, ...read };
    };

    await t.step(
      "browser: the broken client's main thread is held in doRead for about the slowest poem",
      async () => {
        const page = await facts(pageOf(broken.run, { title: "broken" }));
        assert.deepEqual(page.errors, []);
        const doReads = page.main.filter((mark) =>
          mark.kind === "callback" && mark.title.startsWith("doRead of BrokenPoetrySocket")
        );
        const longest = Math.max(...doReads.map((mark) => mark.us));
        const total = doReads.reduce((sum, mark) => sum + mark.us, 0);
        assert.ok(longest > 0.3 * slowest, `longest doRead ${longest} µs`);
        assert.ok(total > 0.7 * slowest, `doRead ${total} µs, slowest poem ${slowest} µs`);
        // With the socket layer's hooks, the blocking recv shows inside it too. (The
        // blocking connects come before the reactor runs, inside no callback.)
        const recvs = page.main.filter((mark) =>
          mark.kind === "blocking" && mark.title.startsWith("blocked in recv")
        );
        assert.ok(recvs.length > 0, "the blocking recvs are drawn");
        for (const mark of recvs) {
          assert.match(mark.title, /inside doRead of BrokenPoetrySocket/);
        }
        assert.match(page.caption, /Figure 7 \(doRead\), gone wrong/);
        assert.ok(page.lanes.some((lane) => /^fd \d+: BrokenPoetrySocket \(Task 1\)/.test(lane)));
      },
    );

    await t.step(
      "browser: the reactor client shows many short callbacks between waits",
      async () => {
        // The article's poems in the article's chunks: as many reads as its 10 s run.
        const html = pageOf(reactorClient.run, { title: "reactor" });
        assert.ok(html.length < 1_000_000, `${html.length} bytes`);
        const page = await facts(html);
        assert.deepEqual(page.errors, []);
        const callbacks = page.main.filter((mark) => mark.kind === "callback");
        const waits = page.main.filter((mark) => mark.kind === "wait");
        assert.ok(callbacks.length >= 30, `${callbacks.length} callbacks`);
        assert.ok(callbacks.every((mark) => mark.us < 100_000));
        assert.ok(waits.length >= callbacks.length / 3, `${waits.length} waits`);
        assert.match(page.caption, /Figure 5 \(the reactor loop\), with Figure 7 \(doRead\)/);
      },
    );

    await t.step(
      "browser: a million events still make a page that opens, drawn per pixel",
      async () => {
        const events: TraceEvent[] = [
          event("run", "reactor", "i", 0, { reactor: "SelectReactor" }),
        ];
        let ts = 1;
        for (let index = 0; index < 500_000; index++) {
          events.push(
            event("wait", "reactor", "B", ts, { readers: [3], writers: [], timeout: null }),
          );
          events.push(event("wait", "reactor", "E", ts + 10, { readable: [3], writable: [] }));
          ts += 12;
        }
        const run = modelOfRun(events);
        const html = pageOf(run, { title: "a million events" });
        assert.ok(html.length < 1_000_000, `${html.length} bytes`);
        const page = await facts(html);
        assert.deepEqual(page.errors, []);
        assert.ok(page.main.length > 0 && page.main.length <= 1200);
        assert.ok(run.waits.length > MARKS_DRAWN_ONE_BY_ONE);
      },
    );
  } finally {
    await browser.close();
  }
});
