/**
 * Measures that import nothing: the median, a step timed many times, the cost of a
 * would-block `recv(16)`. So a fixture that must load only the tree it is given
 * (bench/fixtures/before_after.ts) measures the way the benches do.
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
