/**
 * Connected pairs of sockets of lib/socket on 127.0.0.1, for tests that need real
 * descriptors, and a way to close them all at the end; and the small helpers the socket
 * tests share (`listenLocal`, `connectedPair`, `closeAll`, `patternBytes`).
 *
 * @example
 * ```ts
 * import { Pairs } from "./socket_pairs.ts";
 * const pairs = new Pairs();
 * try {
 *   const { near, far } = pairs.open();
 *   far.sendAll(new TextEncoder().encode("x"));
 * } finally {
 *   pairs.close();
 * }
 * ```
 * @module
 */

import { select, Socket } from "../../lib/socket/mod.ts";

/** Two connected sockets: `near` is the one under test, `far` its peer. */
export interface Pair {
  /** Non-blocking. */
  near: Socket;
  /** Blocking. */
  far: Socket;
}

/** Connected pairs of sockets on 127.0.0.1 (one listener for all), and a way to close them. */
export class Pairs {
  readonly #listener = new Socket();
  readonly #sockets: Socket[] = [this.#listener];

  constructor() {
    this.#listener.bind(["127.0.0.1", 0]);
    this.#listener.listen(16);
  }

  /** A new pair; `near` is non-blocking, `far` blocking. */
  open(): Pair {
    const near = new Socket();
    near.connect(this.#listener.getSockName());
    const [far] = this.#listener.accept();
    near.setBlocking(false);
    this.#sockets.push(near, far);
    return { near, far };
  }

  /** Closes every socket still open. */
  close(): void {
    for (const socket of this.#sockets) {
      if (socket.fileno() !== -1) socket.close();
    }
  }
}

/** Blocks until every socket given is readable: the bytes their peers sent have arrived. */
export function waitReadable(sockets: Socket[]): void {
  const deadline = performance.now() + 3000;
  while (performance.now() < deadline) {
    const [readable] = select(sockets, [], [], 0.05);
    if (readable.length === sockets.length) return;
  }
  throw new Error("the peers' bytes did not arrive");
}

/**
 * A listening socket on 127.0.0.1, port 0 (a free port).
 *
 * @example
 * ```ts
 * import { listenLocal } from "./socket_pairs.ts";
 * const listener = listenLocal();
 * console.log(listener.getSockName()[1] > 0); // true
 * listener.close();
 * ```
 */
export function listenLocal(backlog?: number): Socket {
  const listener = new Socket();
  listener.bind(["127.0.0.1", 0]);
  listener.listen(backlog);
  return listener;
}

/**
 * A listener, a client connected to it, and the server's side of that connection, all
 * blocking and left to the caller to close.
 *
 * @example
 * ```ts
 * import { closeAll, connectedPair } from "./socket_pairs.ts";
 * const { listener, client, server } = connectedPair();
 * client.sendAll(new TextEncoder().encode("hi"));
 * console.log(server.recv(16).length); // 2
 * closeAll(client, server, listener);
 * ```
 */
export function connectedPair(): { listener: Socket; client: Socket; server: Socket } {
  const listener = listenLocal();
  const client = new Socket();
  client.connect(listener.getSockName());
  const [server] = listener.accept();
  return { listener, client, server };
}

/**
 * Closes every socket given; `undefined` ones (never made) are skipped.
 *
 * @example
 * ```ts
 * import { closeAll, listenLocal } from "./socket_pairs.ts";
 * closeAll(listenLocal(), undefined);
 * ```
 */
export function closeAll(...sockets: (Socket | undefined)[]): void {
  for (const socket of sockets) socket?.close();
}

/**
 * `length` pseudo-random bytes (xorshift), the same for the same seed, so misplaced
 * blocks show. A seed of 0 counts as 1.
 *
 * @example
 * ```ts
 * import { patternBytes } from "./socket_pairs.ts";
 * console.log(patternBytes(4, 7).join() === patternBytes(4, 7).join()); // true
 * ```
 */
export function patternBytes(length: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}
