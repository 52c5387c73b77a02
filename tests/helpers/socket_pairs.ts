/**
 * Connected pairs of sockets of lib/socket on 127.0.0.1, for tests that need real
 * descriptors, and a way to close them all at the end.
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
