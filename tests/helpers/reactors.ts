/**
 * The reactors every reactor test runs against, and a reactor that keeps its error
 * reports instead of printing them.
 *
 * @example
 * ```ts
 * import { quietReactor, REACTORS } from "./reactors.ts";
 * for (const [name, Reactor] of REACTORS) {
 *   Deno.test(`${name} reactor: starts and stops`, async () => {
 *     const { reactor, reports } = quietReactor(Reactor);
 *     reactor.callWhenRunning(() => reactor.stop());
 *     await reactor.run();
 *     console.log(reports.length); // 0
 *   });
 * }
 * ```
 * @module
 */

import type { ReactorBase } from "../../lib/reactor/base.ts";
import { PollReactor } from "../../lib/reactor/poll.ts";
import { SelectReactor } from "../../lib/reactor/select.ts";

/** A reactor class: `new Reactor()` makes one, not installed. */
export type ReactorClass = new () => ReactorBase;

/** Each reactor by its `--reactor` name, select first. */
export const REACTORS: ReadonlyArray<readonly [name: "select" | "poll", ReactorClass]> = [
  ["select", SelectReactor],
  ["poll", PollReactor],
];

/** A fresh reactor whose error reports are kept in `reports` instead of printed. */
export function quietReactor(Reactor: ReactorClass): { reactor: ReactorBase; reports: string[] } {
  const reactor = new Reactor();
  const reports: string[] = [];
  reactor.writeErrorReport = (report) => reports.push(report);
  return { reactor, reports };
}
