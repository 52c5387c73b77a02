/**
 * Sockets made connected, as Python's `socket` module makes them: `socketPair` (its
 * `socketpair()`) and `createConnection` (its `create_connection()`).
 *
 * @example
 * ```ts
 * import { socketPair } from "./connections.ts";
 * const [a, b] = socketPair();
 * a.close();
 * b.close();
 * ```
 * @module
 */

import { checkTimeout, getDefaultTimeout } from "./options.ts";
import type { Address } from "./header.ts";
import { Socket } from "./socket.ts";

/**
 * Two sockets connected to each other, as Python's `socket.socketpair()` gives them;
 * here over TCP on 127.0.0.1, through a listener made for the purpose and closed after.
 *
 * @example
 * ```ts
 * import { socketPair } from "./connections.ts";
 * const [a, b] = socketPair();
 * a.sendAll(new TextEncoder().encode("ping"));
 * console.log(new TextDecoder().decode(b.recv(16))); // ping
 * a.close();
 * b.close();
 * ```
 *
 * @returns the two ends, both blocking
 */
export function socketPair(): [Socket, Socket] {
  const listener = new Socket();
  try {
    listener.bind(["127.0.0.1", 0]);
    listener.listen(1);
    const client = new Socket();
    try {
      client.connect(listener.getSockName());
      return [client, listener.accept()[0]];
    } catch (error) {
      client.close();
      throw error;
    }
  } finally {
    listener.close();
  }
}

/**
 * A socket connected to `address`, as Python's `socket.create_connection()` gives one:
 * with the timeout given (`null`: blocking), else the default one (`setDefaultTimeout`).
 * A connect that fails closes the socket and throws (`ConnectionRefused`, `SocketTimeout`,
 * and with a timeout of 0, `InProgress`).
 *
 * @example
 * ```ts ignore
 * import { createConnection } from "./connections.ts";
 * using socket = createConnection(["127.0.0.1", 10000], 5); // closed at the block's end
 * socket.sendAll(new TextEncoder().encode("hello"));
 * ```
 *
 * @param address where to connect
 * @param timeout the socket's timeout; omitted: the default timeout
 * @returns the connected socket
 */
export function createConnection(address: Address, timeout?: number | null): Socket {
  const seconds = timeout === undefined ? getDefaultTimeout() : checkTimeout(timeout);
  const socket = new Socket();
  try {
    socket.setTimeout(seconds);
    socket.connect(address);
    return socket;
  } catch (error) {
    socket.close();
    throw error;
  }
}
