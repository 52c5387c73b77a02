/**
 * The slow poetry server reads its poem as it sends it: a 1 GiB poem arrives exact and the
 * server's memory stays bounded by its chunk, not the poem; a poem that cannot be read is
 * refused at start. (How it ends when the poem vanishes later: endings_test.ts.)
 */
import assert from "node:assert/strict";
import { ScriptProcess, startServers } from "../tools/process.ts";

const GIB = 1 << 30;
const CHUNK = 1 << 20; // --num-bytes
/** Where marks are written into the otherwise sparse (all zero) poem, and the last bytes. */
const MARK_EVERY = 64 << 20;
const MARK = new TextEncoder().encode("a mark in the poem, not zeros ✓");

/** The mark at `offset`: MARK followed by the offset in decimal, so no two are alike. */
function markAt(offset: number): Uint8Array {
  const bytes = new Uint8Array(MARK.length + 12);
  bytes.set(MARK);
  bytes.set(new TextEncoder().encode(String(offset).padStart(12, "0")), MARK.length);
  return bytes;
}

/** The server's peak resident memory (VmHWM), in bytes. */
function peakMemory(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  assert.ok(match, status);
  return Number(match[1]) * 1024;
}

Deno.test("a 1 GiB poem arrives exact, and the server's peak memory stays bounded", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/epic.txt`;
  const marks = new Map<number, Uint8Array>();
  {
    using poem = await Deno.open(file, { write: true, create: true });
    await poem.truncate(GIB); // sparse: no disk, no time
    const offsets = [];
    for (let offset = 0; offset < GIB; offset += MARK_EVERY) offsets.push(offset + offsets.length);
    offsets.push(GIB - MARK.length - 12);
    for (const offset of offsets) {
      marks.set(offset, markAt(offset));
      await poem.seek(offset, Deno.SeekMode.Start);
      await poem.write(marks.get(offset) as Uint8Array);
    }
  }
  const [server] = await startServers([{ poetryFile: file, delay: 0, numBytes: CHUNK }]);
  try {
    const connection = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    // Read it all, comparing the bytes where marks are (and that they are zeros elsewhere
    // around them): cheap, and a shifted, dropped or repeated chunk shows.
    const buffer = new Uint8Array(1 << 20);
    let received = 0;
    const wrong = new Set<number>(); // marks with a byte out of place
    for (;;) {
      const count = await connection.read(buffer);
      if (count === null) break;
      for (const [offset, mark] of marks) {
        const from = Math.max(offset - 1, received);
        const to = Math.min(offset + mark.length + 1, received + count);
        for (let at = from; at < to; at++) {
          const inMark = at >= offset && at < offset + mark.length;
          const expected = inMark ? mark[at - offset] : 0;
          if (buffer[at - received] !== expected) wrong.add(offset);
        }
      }
      received += count;
    }
    connection.close();
    assert.equal(received, GIB, "every byte of the poem");
    assert.deepEqual([...wrong], [], "bytes differ around these marks");
    await server.process.waitForLine((text) => text === `Sending ${CHUNK} bytes`);
    const peak = peakMemory(server.process.pid);
    console.log(`server peak memory (VmHWM) for a 1 GiB poem: ${(peak / 2 ** 20).toFixed(0)} MiB`);
    // Deno itself and the socket layer's buffers take a few tens of MiB; a server that
    // held the poem would need more than 1 GiB.
    assert.ok(peak < 256 * 2 ** 20, `peak memory ${peak} bytes`);
    const sent = server.process.lines.filter((line) => line.text.startsWith("Sending "));
    assert.equal(sent.length, GIB / CHUNK);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a poem that cannot be read is refused at start: one line, exit 2", async () => {
  // A regular file as stat sees it, whose first read fails (EIO). Deno asks -A for it.
  const child = new ScriptProcess("blocking-server/slowpoetry.ts", ["/proc/self/mem"], {
    permissions: ["-A"],
  });
  const outcome = await child.finished(15_000);
  assert.equal(outcome.code, 2, outcome.stderr);
  assert.match(outcome.stderr, /^slowpoetry\.ts: error: Cannot read \/proc\/self\/mem: .+\n$/);
  assert.deepEqual(outcome.lines, []);
});
