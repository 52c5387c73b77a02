/**
 * Reading a trace file while the traced program still writes it. The recorder
 * (`lib/trace/preload.ts`) writes `[` and then one event a line, each followed by a
 * comma, and flushes before every wait: so whenever the program waits, the file holds
 * everything it did so far. {@linkcode TraceTail} reads what was added since its last
 * look, and keeps whole lines only (a line still being written is read next time); the
 * lines are parsed by `tools/trace/read.ts`, as `deno task trace` parses them.
 *
 * @example
 * ```ts
 * import { TraceTail } from "./trace_file.ts";
 *
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, '[\n{"name":"run","cat":"reactor","ph":"i","ts":5,"pid":1,"tid":1},\n');
 * const tail = new TraceTail(path);
 * console.log(tail.read().map((event) => event.name)); // ["run"]
 * Deno.removeSync(path);
 * ```
 *
 * @module
 */

import { parseTrace, type TraceEvent } from "../trace/read.ts";

/**
 * A trace file read as it grows.
 *
 * @example
 * ```ts
 * import { TraceTail } from "./trace_file.ts";
 * const tail = new TraceTail("/tmp/trace.json");
 * const timer = setInterval(() => console.log(tail.read().length, "new events"), 150);
 * clearInterval(timer);
 * ```
 */
export class TraceTail {
  /** Every event read so far, in the file's order. */
  readonly events: TraceEvent[] = [];
  #offset = 0;
  #partial = "";
  readonly #decoder = new TextDecoder();

  /**
   * Reads nothing yet.
   *
   * @param path the trace file (it may not exist yet)
   */
  constructor(readonly path: string) {}

  /**
   * Reads what the program added since the last call.
   *
   * @example
   * ```ts
   * import { TraceTail } from "./trace_file.ts";
   * const tail = new TraceTail("/no/such/trace.json");
   * console.log(tail.read()); // []: no file yet
   * ```
   *
   * @returns the new events (also appended to {@linkcode TraceTail.events})
   */
  read(): TraceEvent[] {
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(this.path, { read: true });
    } catch {
      return []; // not created yet
    }
    let text = "";
    try {
      file.seekSync(this.#offset, Deno.SeekMode.Start);
      const buffer = new Uint8Array(65536);
      for (;;) {
        const count = file.readSync(buffer);
        if (count === null || count === 0) break;
        this.#offset += count;
        text += this.#decoder.decode(buffer.subarray(0, count), { stream: true });
      }
    } finally {
      file.close();
    }
    const lines = this.#partial + text;
    const lastNewline = lines.lastIndexOf("\n");
    this.#partial = lines.slice(lastNewline + 1);
    const events = parseTrace(lines.slice(0, lastNewline + 1));
    // One by one: spreading a busy program's hundreds of thousands of new events into
    // push() would overflow the call stack.
    for (const event of events) this.events.push(event);
    return events;
  }
}
