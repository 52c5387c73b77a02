/**
 * The exercise checker's own slow poetry server: it serves a poem a chunk at a time, as
 * `blocking-server/slowpoetry.ts` does, and notes what each client did, so that the
 * checker can judge a client by its behaviour rather than by what it prints. For each
 * connection it counts the bytes sent and sees when the client closed its end: before
 * the whole poem was sent (it gave up, or crashed), after (it read to the end), or with
 * bytes still unread (a reset).
 *
 * It runs inside the checker's process, on Deno's own sockets, serves every client at
 * once, and after the last chunk shuts down its sending side only, so that it can still
 * see the client close.
 *
 * @example
 * ```ts
 * import { WatchedPoetryServer } from "./server.ts";
 *
 * const server = WatchedPoetryServer.start({ poetryFile: "poetry/science.txt", delay: 0.01 });
 * // ... run a client against 127.0.0.1:server.port ...
 * await server.close();
 * console.log(server.connections[0]?.bytesSent, server.poem.length);
 * ```
 *
 * @module
 */

import { repoPath } from "../process.ts";

/**
 * What one client did, as the server saw it. Times are `performance.now()` milliseconds.
 *
 * @example
 * ```ts
 * import type { ConnectionRecord } from "./server.ts";
 * const readToTheEnd = (record: ConnectionRecord) =>
 *   record.sentAllAt !== null && !record.reset &&
 *   (record.clientClosedAt === null || record.clientClosedAt >= record.sentAllAt);
 * ```
 */
export interface ConnectionRecord {
  /** When the server accepted the connection. */
  acceptedAt: number;
  /** Bytes of the poem sent so far. */
  bytesSent: number;
  /** When the last byte was sent and the server shut down its side; null until then. */
  sentAllAt: number | null;
  /** When the client closed its end (or the connection broke); null while it is open. */
  clientClosedAt: number | null;
  /** Whether the connection was reset: the client left with bytes still unread. */
  reset: boolean;
}

/**
 * How to serve: the poem, and how fast.
 *
 * @example
 * ```ts
 * import type { WatchedServerSpec } from "./server.ts";
 * const spec: WatchedServerSpec = { poetryFile: "poetry/ecstasy.txt", chunkBytes: 30, delay: 0.05 };
 * ```
 */
export interface WatchedServerSpec {
  /** The poem, from the repository's root. */
  poetryFile: string;
  /** Bytes per chunk; 10 when absent, as the slow poetry server's default. */
  chunkBytes?: number;
  /** Seconds after each chunk. */
  delay: number;
}

/** A slow poetry server on 127.0.0.1 and a free port that notes what its clients do. */
export class WatchedPoetryServer {
  /** One record per client, in the order they connected. */
  readonly connections: ConnectionRecord[] = [];
  /** The poem's bytes. */
  readonly poem: Uint8Array;
  readonly #listener: Deno.TcpListener;
  readonly #open = new Set<Deno.TcpConn>();
  readonly #handlers: Promise<void>[] = [];
  readonly #stopped = new AbortController();
  readonly #accepting: Promise<void>;

  private constructor(readonly spec: WatchedServerSpec) {
    this.poem = Deno.readFileSync(repoPath(spec.poetryFile));
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accepting = this.#accept();
  }

  /**
   * Starts serving.
   *
   * @example
   * ```ts
   * import { WatchedPoetryServer } from "./server.ts";
   * const server = WatchedPoetryServer.start({ poetryFile: "poetry/science.txt", delay: 0.01 });
   * await server.close();
   * ```
   *
   * @param spec the poem and the pace
   * @returns the server, listening
   */
  static start(spec: WatchedServerSpec): WatchedPoetryServer {
    return new WatchedPoetryServer(spec);
  }

  /**
   * The port it listens on.
   *
   * @example
   * ```ts
   * import { WatchedPoetryServer } from "./server.ts";
   * const server = WatchedPoetryServer.start({ poetryFile: "poetry/science.txt", delay: 0.01 });
   * console.log(`127.0.0.1:${server.port}`);
   * await server.close();
   * ```
   */
  get port(): number {
    return this.#listener.addr.port;
  }

  /**
   * Bytes per chunk.
   *
   * @example
   * ```ts
   * import { WatchedPoetryServer } from "./server.ts";
   * const server = WatchedPoetryServer.start({ poetryFile: "poetry/science.txt", delay: 0.01 });
   * server.chunkBytes; // 10, the slow poetry server's default
   * await server.close();
   * ```
   */
  get chunkBytes(): number {
    return this.spec.chunkBytes ?? 10;
  }

  /**
   * Seconds the whole poem takes to send: one delay per chunk.
   *
   * @example
   * ```ts
   * import { WatchedPoetryServer } from "./server.ts";
   * const server = WatchedPoetryServer.start({ poetryFile: "poetry/science.txt", delay: 0.01 });
   * server.poemSeconds; // 0.66: 653 bytes, 66 chunks of 10
   * await server.close();
   * ```
   */
  get poemSeconds(): number {
    return Math.ceil(this.poem.length / this.chunkBytes) * this.spec.delay;
  }

  async #accept(): Promise<void> {
    for (;;) {
      let connection: Deno.TcpConn;
      try {
        connection = await this.#listener.accept();
      } catch {
        return; // closed
      }
      this.#handlers.push(this.#serve(connection));
    }
  }

  async #serve(connection: Deno.TcpConn): Promise<void> {
    this.#open.add(connection);
    const record: ConnectionRecord = {
      acceptedAt: performance.now(),
      bytesSent: 0,
      sentAllAt: null,
      clientClosedAt: null,
      reset: false,
    };
    this.connections.push(record);
    const clientGone = this.#watchClient(connection, record);
    try {
      for (let offset = 0; offset < this.poem.length; offset += this.chunkBytes) {
        if (record.clientClosedAt !== null || this.#stopped.signal.aborted) break;
        const chunk = this.poem.subarray(offset, offset + this.chunkBytes);
        for (let written = 0; written < chunk.length;) {
          written += await connection.write(chunk.subarray(written));
        }
        record.bytesSent += chunk.length;
        await this.#pause();
      }
      if (record.bytesSent === this.poem.length) {
        await connection.closeWrite();
        record.sentAllAt = performance.now();
      }
    } catch {
      // the client has gone: #watchClient notes when
    }
    await clientGone;
    this.#open.delete(connection);
    try {
      connection.close();
    } catch {
      // closed by close() already
    }
  }

  /** Reads (and drops) whatever the client sends, to see when it closes its end. */
  async #watchClient(connection: Deno.TcpConn, record: ConnectionRecord): Promise<void> {
    const buffer = new Uint8Array(4096);
    try {
      while (await connection.read(buffer) !== null) {
        // a poetry client sends nothing; ignore it if it does
      }
    } catch (error) {
      if (this.#stopped.signal.aborted) return; // we closed it, not the client
      if (error instanceof Deno.errors.ConnectionReset) record.reset = true;
    }
    if (!this.#stopped.signal.aborted) record.clientClosedAt ??= performance.now();
  }

  /** Waits one delay, or less if the server is closed meanwhile. */
  #pause(): Promise<void> {
    const signal = this.#stopped.signal;
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.spec.delay * 1000);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done);
    });
  }

  /**
   * Stops listening, closes every connection still open, and waits until nothing of the
   * server is left running.
   *
   * @example
   * ```ts
   * import { WatchedPoetryServer } from "./server.ts";
   * const server = WatchedPoetryServer.start({ poetryFile: "poetry/science.txt", delay: 0.01 });
   * await server.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#stopped.signal.aborted) return;
    this.#stopped.abort();
    this.#listener.close();
    await this.#accepting;
    for (const connection of this.#open) {
      try {
        connection.close();
      } catch {
        // closed already
      }
    }
    await Promise.allSettled(this.#handlers);
  }
}
