/**
 * Which reactor a program gets when it installs none: the select reactor, as
 * `twisted.internet.default` picks the default reactor in Twisted. `mod.ts`
 * and `LoopingCall` both ask here, so the choice is made in one place.
 *
 * @example
 * ```ts
 * import { installedOrDefaultReactor } from "./default.ts";
 * const reactor = installedOrDefaultReactor(); // the select reactor, unless one was installed
 * console.log(installedOrDefaultReactor() === reactor); // true
 * ```
 *
 * @module
 */

import { getInstalledReactor, type ReactorBase } from "./base.ts";
import { install as installSelectReactor } from "./select.ts";

/**
 * The installed reactor; if none is installed yet, installs the default (a
 * select reactor) first.
 *
 * @example
 * ```ts
 * import { installedOrDefaultReactor } from "./default.ts";
 * installedOrDefaultReactor().callWhenRunning(() => console.log("running"));
 * ```
 *
 * @returns the program's reactor
 */
export function installedOrDefaultReactor(): ReactorBase {
  return getInstalledReactor() ?? installSelectReactor();
}
