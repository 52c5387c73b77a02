/**
 * Names for the trace: how a callback is labelled so that the learner
 * recognises their own code in it (`doRead of PoetrySocket (Task 1)`,
 * `Countdown.count`). Used by the reactor's hooks only while tracing: taking
 * the scheduling site reads the call stack, which is not free.
 *
 * @example
 * ```ts
 * import { callbackLabel, functionName } from "./names.ts";
 * console.log(functionName(function count() {}.bind(null))); // count
 * console.log(callbackLabel("doRead", { target: "PoetrySocket", task: 1 }));
 * // doRead of PoetrySocket (Task 1)
 * ```
 *
 * @module
 */

/**
 * A function's own name, without the `bound ` that `bind` puts in front; ""
 * when it has none (an arrow function passed inline).
 *
 * @example
 * ```ts
 * import { functionName } from "./names.ts";
 * console.log(functionName(() => {}), functionName(Math.max)); // "" max
 * ```
 *
 * @param f the function
 * @returns its name, or ""
 */
export function functionName(f: unknown): string {
  if (typeof f !== "function") return "";
  try {
    let name = String(f.name ?? "");
    while (name.startsWith("bound ")) name = name.slice(6);
    return name;
  } catch {
    return "";
  }
}

/** The library's own directories: frames there are not the learner's code. */
const LIBRARY_DIRS = [new URL("../reactor/", import.meta.url), new URL("./", import.meta.url)]
  .flatMap((url) => [url.href, url.pathname]);

/** One frame of V8's structured stack trace (the parts used here). */
interface CallSite {
  getTypeName(): string | null;
  getFunctionName(): string | null;
  getMethodName(): string | null;
  getFileName(): string | null | undefined;
  getLineNumber(): number | null;
}

/**
 * Where the learner's code called into the reactor: the first frame of the
 * call stack outside `lib/reactor` and `lib/trace`, as `Class.method`, a
 * function's name, or `file.ts:line` for a module's top level.
 *
 * @example
 * ```ts
 * import { schedulingSite } from "./names.ts";
 * class Countdown {
 *   count(): string | undefined {
 *     return schedulingSite();
 *   }
 * }
 * console.log(new Countdown().count()); // Countdown.count
 * ```
 *
 * @returns the site, or undefined when the stack cannot be read
 */
export function schedulingSite(): string | undefined {
  const holder: { stack?: unknown } = {};
  const ErrorWithV8 = Error as unknown as {
    prepareStackTrace?: (error: unknown, sites: CallSite[]) => unknown;
    captureStackTrace?: (target: object, above?: unknown) => void;
    stackTraceLimit?: number;
  };
  const previousPrepare = ErrorWithV8.prepareStackTrace;
  const previousLimit = ErrorWithV8.stackTraceLimit;
  let sites: unknown;
  try {
    ErrorWithV8.prepareStackTrace = (_error, callSites) => callSites;
    ErrorWithV8.stackTraceLimit = 10;
    ErrorWithV8.captureStackTrace?.(holder, schedulingSite);
    sites = holder.stack;
  } catch {
    return undefined;
  } finally {
    ErrorWithV8.prepareStackTrace = previousPrepare;
    ErrorWithV8.stackTraceLimit = previousLimit;
  }
  if (!Array.isArray(sites)) return undefined;
  for (const site of sites as CallSite[]) {
    const file = site.getFileName() ?? "";
    if (file === "" || file.startsWith("ext:") || file.startsWith("node:")) continue;
    if (LIBRARY_DIRS.some((dir) => file.startsWith(dir))) continue;
    return siteLabel(site, file);
  }
  return undefined;
}

/**
 * Receivers that say nothing of the learner's code. V8 names a frame's type
 * after the receiver of the call, and an arrow function called by the reactor
 * has the reactor's object as receiver, not the class it was written in.
 */
const NOT_THE_LEARNERS = new Set([
  "Object",
  "global",
  "Window",
  "DelayedCall",
  "DelayedCallQueue",
  "Trigger",
  "ThreePhaseEvent",
  "LoopingCall",
  "Clock",
  "ReactorBase",
  "SelectReactor",
  "PollReactor",
]);

function siteLabel(site: CallSite, file: string): string {
  const type = site.getTypeName();
  const name = site.getFunctionName() ?? site.getMethodName();
  const isClass = type !== null && !NOT_THE_LEARNERS.has(type);
  if (name !== null && name !== "") return isClass ? `${type}.${name}` : name;
  return `${file.slice(file.lastIndexOf("/") + 1)}:${site.getLineNumber() ?? "?"}`;
}

/**
 * The label of a delayed call: the function's own name, or where it was
 * scheduled from when it has none. A function that schedules itself again
 * (`Countdown.count` calling `callLater(1, this.count)`) gets its class too.
 *
 * @example
 * ```ts
 * import { delayedCallLabel } from "./names.ts";
 * console.log(delayedCallLabel("count", "Countdown.count")); // Countdown.count
 * console.log(delayedCallLabel("", "Countdown.start")); // Countdown.start
 * console.log(delayedCallLabel("stop", "Countdown.count")); // stop
 * ```
 *
 * @param name the function's name ({@linkcode functionName})
 * @param site where it was scheduled ({@linkcode schedulingSite})
 * @returns the label
 */
export function delayedCallLabel(name: string, site: string | undefined): string {
  if (name === "") return site ?? "anonymous";
  if (site !== undefined && site.endsWith(`.${name}`)) return site;
  return name;
}

/**
 * The label of a call the reactor makes on an object: `doRead of
 * PoetrySocket (Task 1)`.
 *
 * @example
 * ```ts
 * import { callbackLabel } from "./names.ts";
 * console.log(callbackLabel("connectionLost", { logPrefix: "-" })); // connectionLost of -
 * ```
 *
 * @param kind the method called
 * @param who the object, as `describeTarget` gives it
 * @returns the label
 */
export function callbackLabel(
  kind: string,
  who: { target?: string; logPrefix?: string; task?: number },
): string {
  const name = who.target ?? who.logPrefix ?? "an object";
  return who.task === undefined ? `${kind} of ${name}` : `${kind} of ${name} (Task ${who.task})`;
}

/**
 * Any thrown or returned value as one short line, never throwing.
 *
 * @example
 * ```ts
 * import { oneLine } from "./names.ts";
 * console.log(oneLine(new RangeError("too far"))); // RangeError: too far
 * ```
 *
 * @param value the value
 * @returns one line
 */
export function oneLine(value: unknown): string {
  try {
    if (value instanceof Error) return `${value.name}: ${value.message}`.split("\n")[0];
    return String(value).split("\n")[0];
  } catch {
    return "(a value that cannot be printed)";
  }
}
