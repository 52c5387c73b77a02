/**
 * The reactor, our small counterpart of `twisted.internet`.
 *
 * `reactor` is the program's one reactor. Importing this module installs the
 * default one (the select reactor) unless another was installed first; every
 * module that imports it gets the same object.
 *
 * ES modules are evaluated before the module that imports them, so "install
 * a reactor, then import it" cannot be two `import` lines: install first,
 * then load this module with `await import(...)` (see `basic/simple-poll.ts`).
 * That is also why the article advises importing the reactor where it is used.
 *
 * @example
 * ```ts
 * import { reactor } from "./mod.ts";
 *
 * reactor.callWhenRunning(() => console.log("Hello from the reactor loop!"));
 * reactor.callLater(1, () => reactor.stop());
 * await reactor.run();
 * ```
 *
 * @module
 */

import type { ReactorBase } from "./base.ts";
import { installedOrDefaultReactor } from "./default.ts";

/** The installed reactor: the select reactor unless another was installed before this import. */
export const reactor: ReactorBase = installedOrDefaultReactor();

export { formatUnhandledError, ReactorBase } from "./base.ts";
export { DelayedCall } from "./delayed.ts";
export * from "./error.ts";
export type * from "./interfaces.ts";
export * from "./main.ts";
export { PollReactor } from "./poll.ts";
export { SelectReactor } from "./select.ts";
export { Clock, LoopingCall } from "./task.ts";
