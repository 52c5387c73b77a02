/**
 * Measures that import nothing: the median, a step timed many times, and the socket
 * layer's latencies (a one-byte hop and round trip, a blocking connect + accept, a
 * would-block `recv(16)`), each taking the socket layer it measures. So a fixture that
 * must load only the tree it is given (bench/fixtures/before_after.ts) measures the way
 * the benches do.
 *
 * @example
 * ```ts ignore
 * import { wouldBlockRecvRuns } from "./measure.ts";
 * const [a, b] = socketPair();
 * b.setBlocking(false);
 * console.log(wouldBlockRecvRuns(b, WouldBlock, 20_000, 5)); // µs per call, one per round
 * ```
 *
 * @module
 */

/**
 * The median of some numbers (the mean of the middle two for an even count).
 *
 * @param values the numbers, not empty
 * @returns their median
 */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Microseconds per call of `step`: the median of `count` timings, after a warm-up of up
 * to 200 calls.
 *
 * @param count how many timed calls
 * @param step the call
 * @returns its median µs
 */
export function timeEach(count: number, step: () => void): number {
  for (let index = 0; index < Math.min(200, count); index++) step();
  const times = new Array<number>(count);
  for (let index = 0; index < count; index++) {
    const started = performance.now();
    step();
    times[index] = (performance.now() - started) * 1000;
  }
  return median(times);
}

/**
 * Calls `socket.recv(16)` on a non-blocking socket with nothing to read, `calls` times a
 * round, and gives each round's µs per call. Anything but the expected error stops it.
 *
 * @param socket a non-blocking socket that has nothing to read
 * @param wouldBlock the error class a would-block call throws (the tree's own `WouldBlock`)
 * @param calls calls per round
 * @param rounds how many rounds
 * @returns µs per call, one figure per round
 */
export function wouldBlockRecvRuns(
  socket: { recv(max: number): Uint8Array },
  wouldBlock: abstract new (...args: never[]) => Error,
  calls: number,
  rounds: number,
): number[] {
  const runs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    for (let call = 0; call < calls; call++) {
      try {
        socket.recv(16);
        throw new Error("unexpected bytes");
      } catch (error) {
        if (!(error instanceof wouldBlock)) throw error;
      }
    }
    runs.push((performance.now() - started) * 1000 / calls);
  }
  return runs;
}

/** What the hop and the round trip need of a socket, whichever tree it comes from. */
export interface ByteSocket {
  /** Send bytes. */
  send(bytes: Uint8Array): number;
  /** Receive up to `max` bytes. */
  recv(max: number): Uint8Array;
}

/** A tree's `select`, as the hop calls it: wait until one of `readers` is readable. */
export type SelectOf<S> = (readers: S[], writers: S[], exceptional: S[]) => unknown;

const ONE_BYTE = new Uint8Array([42]);

/**
 * One byte from `from` to `to`: `from.send`, then `select([to])`, then `to.recv(16)`.
 *
 * @param from the sending end
 * @param to the receiving end (connected to `from`)
 * @param select the tree's `select`
 */
export function passByte<S extends ByteSocket>(from: S, to: S, select: SelectOf<S>): void {
  from.send(ONE_BYTE);
  select([to], [], []);
  if (to.recv(16).length !== 1) throw new Error("lost a byte");
}

/**
 * Microseconds per one-byte round trip on a connected pair (`passByte` from A to B, and
 * back): `timeEach` of `count`.
 *
 * @example
 * ```ts
 * import { roundTripUs } from "./measure.ts";
 * import { select, socketPair } from "../lib/socket/mod.ts";
 * const [a, b] = socketPair();
 * console.log(roundTripUs(a, b, select, 100)); // 40.5, say
 * a.close();
 * b.close();
 * ```
 *
 * @param a one end
 * @param b the other
 * @param select the tree's `select`
 * @param count how many timed round trips
 * @returns their median µs
 */
export function roundTripUs<S extends ByteSocket>(
  a: S,
  b: S,
  select: SelectOf<S>,
  count: number,
): number {
  return timeEach(count, () => {
    passByte(a, b, select);
    passByte(b, a, select);
  });
}

/** What a blocking connect + accept needs of a tree's socket class. */
export interface ConnectingSocket {
  /** Bind to an address. */
  bind(address: [string, number]): void;
  /** Listen. */
  listen(backlog: number): void;
  /** The address bound. */
  getSockName(): [string, number];
  /** Connect, blocking. */
  connect(address: [string, number]): void;
  /** Accept a connection. */
  accept(): [ConnectingSocket, [string, number]];
  /** Close. */
  close(): void;
}

/**
 * Microseconds per blocking connect + accept on 127.0.0.1: a new socket's `connect`, then
 * the listener's `accept`; `timeEach` of `count`, the connections kept open until the end
 * (closing is not timed).
 *
 * @example
 * ```ts
 * import { connectAcceptUs } from "./measure.ts";
 * import { Socket } from "../lib/socket/mod.ts";
 * console.log(connectAcceptUs(Socket, 10)); // 480, say
 * ```
 *
 * @param Socket the tree's socket class
 * @param count how many timed connections
 * @returns their median µs
 */
export function connectAcceptUs(Socket: new () => ConnectingSocket, count: number): number {
  const listener = new Socket();
  listener.bind(["127.0.0.1", 0]);
  listener.listen(128);
  const address = listener.getSockName();
  const opened: ConnectingSocket[] = [];
  const micros = timeEach(count, () => {
    const client = new Socket();
    client.connect(address);
    opened.push(client, listener.accept()[0]);
  });
  for (const socket of opened) socket.close();
  listener.close();
  return micros;
}
