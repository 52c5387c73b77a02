/**
 * The cost of a would-block `recv(16)`, measured the one way both the latency bench and
 * the before/after fixture measure it. It imports nothing, so a fixture that must load
 * only the tree it is given (bench/fixtures/before_after.ts) can use it too.
 *
 * @example
 * ```ts ignore
 * import { wouldBlockRecvRuns } from "./would_block.ts";
 * const [a, b] = socketPair();
 * b.setBlocking(false);
 * console.log(wouldBlockRecvRuns(b, WouldBlock, 20_000, 5)); // µs per call, one per round
 * ```
 *
 * @module
 */

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
