/**
 * What every command-line program of the project shares (the lesson scripts, the
 * solutions and the tools): reading a command line (with `--help`, and a one-line
 * error with exit status 2 for a mistake), checking numbers and files given on it,
 * ending with a one-line error, and ending with one line on a missing permission.
 * Addresses are `address.ts`'s, durations `duration.ts`'s.
 *
 * @example Reading a server's command line
 * ```ts
 * import { parseCommandLine, parseNumber, UsageError } from "./cli.ts";
 *
 * const delay = parseCommandLine(["--delay", "0.5", "poem.txt"], {
 *   usage: "[--delay S] POETRY-FILE",
 *   description: "Serves a poem.",
 *   options: { delay: { metavar: "S", help: "seconds between chunks", default: "0.1" } },
 * }, ({ values, positionals }) => {
 *   if (positionals.length !== 1) throw new UsageError("Provide exactly one poetry file.");
 *   return parseNumber(values.delay, "--delay", { min: 0 });
 * });
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";

/**
 * A mistake on the command line. {@linkcode parseCommandLine} turns it into
 * `NAME: error: MESSAGE` on stderr and exit status 2.
 *
 * @example
 * ```ts
 * import { UsageError } from "./cli.ts";
 * throw new UsageError("Provide exactly one poetry file.");
 * ```
 */
export class UsageError extends Error {
  /** @param message one sentence saying what is wrong */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * The running script's file name, as it appears in error lines
 * (`get-poetry.ts`).
 *
 * @example
 * ```ts
 * import { scriptName } from "./cli.ts";
 * console.log(`usage: ${scriptName()} [HOST:]PORT ...`);
 * ```
 *
 * @returns the last part of the main module's path
 */
export function scriptName(): string {
  const path = new URL(Deno.mainModule).pathname;
  return decodeURIComponent(path.slice(path.lastIndexOf("/") + 1));
}

/**
 * Ends the program with one line on stderr, `NAME: error: MESSAGE`, and an
 * exit status: 2 for a mistake on the command line (as Python's argparse and
 * optparse do), 1 for a failure while running (a refused connection, say).
 *
 * @example
 * ```ts
 * import { fail } from "./cli.ts";
 * fail("127.0.0.1:10000: [Errno 111] Connection refused", 1);
 * ```
 *
 * @param message what went wrong, one line
 * @param code the exit status (default 1)
 */
export function fail(message: string, code = 1): never {
  console.error(`${scriptName()}: error: ${message}`);
  Deno.exit(code);
}

let permissionHandlerInstalled = false;

/**
 * From now on, a missing permission that nothing catches ends the script with one
 * line, `NAME: error: Requires net access to "127.0.0.1:10000", run again with the
 * --allow-net flag (-N)`, and exit status 1, instead of a stack trace. Deno says which
 * flag to add; without a terminal it cannot ask, and fails at once. Every lesson
 * script calls it first thing, before reading its command line.
 *
 * @example
 * ```ts
 * import { endOnMissingPermission } from "./cli.ts";
 * endOnMissingPermission();
 * ```
 */
export function endOnMissingPermission(): void {
  if (permissionHandlerInstalled) return;
  permissionHandlerInstalled = true;
  const endIfMissingPermission = (event: Event, error: unknown): void => {
    if (!(error instanceof Deno.errors.NotCapable)) return;
    event.preventDefault();
    fail(error.message, 1);
  };
  addEventListener("error", (event) => endIfMissingPermission(event, event.error));
  addEventListener("unhandledrejection", (event) => endIfMissingPermission(event, event.reason));
}

/**
 * One `--name VALUE` option of a lesson script, for
 * {@linkcode parseCommandLine}.
 *
 * @example
 * ```ts
 * import type { OptionSpec } from "./cli.ts";
 * const delay: OptionSpec = { metavar: "S", help: "seconds between chunks", default: "0.1" };
 * ```
 */
export interface OptionSpec {
  /** What the value stands for in the help (`N`, `HOST`); flags have none. */
  metavar?: string;
  /** A flag takes no value: it is `"true"` when given, else its default. */
  flag?: boolean;
  /** One line saying what the option does. */
  help: string;
  /** The value when the option is not given; without it the value is `undefined`. */
  default?: string;
}

/**
 * The values of the options in a spec: a string for each option, or
 * `undefined` for one that has no default and was not given.
 *
 * @example
 * ```ts
 * import type { OptionValues } from "./cli.ts";
 * type Values = OptionValues<{ port: { metavar: "N"; help: ""; default: "0" } }>;
 * const values: Values = { port: "10000" };
 * ```
 */
export type OptionValues<T extends Record<string, OptionSpec>> = {
  [K in keyof T]: T[K] extends { default: string } ? string : string | undefined;
};

/**
 * What a script's command line looks like, for {@linkcode parseCommandLine}.
 *
 * @example
 * ```ts
 * import type { CommandSpec } from "./cli.ts";
 * const spec: CommandSpec<Record<string, never>> = {
 *   usage: "[HOST:]PORT ...",
 *   description: "Fetches a poem from each server.",
 * };
 * ```
 */
export interface CommandSpec<T extends Record<string, OptionSpec>> {
  /** The arguments part of the usage line, after the script's name. */
  usage: string;
  /** The text of `--help`, below the usage line: what it does, how to run it. */
  description: string;
  /** The `--name VALUE` options, by name. */
  options?: T;
}

/**
 * The command line, split into option values and positional arguments.
 *
 * @example
 * ```ts
 * import type { ParsedCommandLine } from "./cli.ts";
 * const parsed: ParsedCommandLine<Record<string, never>> = { values: {}, positionals: ["10000"] };
 * ```
 */
export interface ParsedCommandLine<T extends Record<string, OptionSpec>> {
  /** Each option's value. */
  values: OptionValues<T>;
  /** The arguments that are not options, in order. */
  positionals: string[];
}

/**
 * Builds the text `--help` prints: the usage line, the description and the
 * options.
 *
 * @example
 * ```ts
 * import { helpText } from "./cli.ts";
 * console.log(helpText({ usage: "[HOST:]PORT ...", description: "Fetches poems." }));
 * ```
 *
 * @param spec the command line's description
 * @returns the help, ending without a newline
 */
export function helpText<T extends Record<string, OptionSpec>>(spec: CommandSpec<T>): string {
  const rows: [string, string][] = [["-h, --help", "show this help and exit"]];
  for (const [name, option] of Object.entries(spec.options ?? {})) {
    const byDefault = option.default === undefined ? "" : ` (default: ${option.default})`;
    const left = option.flag ? `--${name}` : `--${name} ${option.metavar ?? "VALUE"}`;
    rows.push([left, option.help + byDefault]);
  }
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  const optionLines = rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`);
  return [
    `usage: ${scriptName()} ${spec.usage}`,
    "",
    spec.description.trim(),
    "",
    "options:",
    ...optionLines,
  ].join("\n");
}

/**
 * Reads a script's command line. `-h`/`--help` prints {@linkcode helpText}
 * and exits 0. An unknown option, an option without its value, or a
 * {@linkcode UsageError} thrown by `interpret` ends the program with
 * `NAME: error: MESSAGE` and exit status 2. Options may come before or after
 * the positional arguments. A negative number after an option that takes a value
 * (`--delay -1`) is that option's value, checked by `interpret` like any other.
 *
 * @example
 * ```ts
 * import { parsePort } from "./address.ts";
import { parseCommandLine, UsageError } from "./cli.ts";
 *
 * const options = parseCommandLine(Deno.args, {
 *   usage: "[options] POETRY-FILE",
 *   description: "Serves a poem slowly.",
 *   options: { port: { metavar: "N", help: "the port to listen on", default: "0" } },
 * }, ({ values, positionals }) => {
 *   if (positionals.length !== 1) throw new UsageError("Provide exactly one poetry file.");
 *   return { port: parsePort(values.port), file: positionals[0] };
 * });
 * ```
 *
 * @param args the arguments, usually `Deno.args`
 * @param spec the usage line, the help text and the options
 * @param interpret turns the parsed strings into the script's settings;
 *   throws {@linkcode UsageError} when they make no sense
 * @returns what `interpret` returns
 */
export function parseCommandLine<T extends Record<string, OptionSpec>, R>(
  args: string[],
  spec: CommandSpec<T>,
  interpret: (parsed: ParsedCommandLine<T>) => R,
): R {
  const config: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const [name, option] of Object.entries(spec.options ?? {})) {
    config[name] = { type: option.flag ? "boolean" : "string" };
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(args, spec.options ?? {}),
      options: config,
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    // Keep node's first sentence: its hints run over several lines.
    const message = error instanceof Error ? error.message : String(error);
    fail(message.split("\n")[0].replace(/\. To specify .*$/, "."), 2);
  }
  if (parsed.values.help === true) {
    console.log(helpText(spec));
    Deno.exit(0);
  }
  const values: Record<string, string | undefined> = {};
  for (const [name, option] of Object.entries(spec.options ?? {})) {
    const given = parsed.values[name];
    values[name] = typeof given === "string" ? given : given === true ? "true" : option.default;
  }
  try {
    return interpret({ values: values as OptionValues<T>, positionals: parsed.positionals });
  } catch (error) {
    if (error instanceof UsageError) fail(error.message, 2);
    throw error;
  }
}

/**
 * Joins `--name -1` into `--name=-1` for an option that takes a value, so that a
 * negative number reaches the check of its value (`--delay must be at least 0, not
 * -1.`) instead of being taken for an option.
 */
function joinNegativeValues(args: string[], options: Record<string, OptionSpec>): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith("--") ? args[i].slice(2) : "";
    const option = Object.hasOwn(options, name) ? options[name] : undefined;
    const next = args[i + 1];
    if (option && !option.flag && next !== undefined && /^-[0-9.]/.test(next)) {
      joined.push(`${args[i]}=${next}`);
      i++;
    } else {
      joined.push(args[i]);
    }
  }
  return joined;
}

/**
 * Reads the command line of a script that takes no arguments: `-h`/`--help` prints
 * the usage line and `description` and exits 0; anything else given ends the program
 * with a one-line error and exit status 2.
 *
 * @example
 * ```ts
 * import { expectNoArguments } from "./cli.ts";
 * expectNoArguments("Runs an idle reactor. Ctrl-C ends it.", []);
 * ```
 *
 * @param description the text of `--help`: what the script does
 * @param args the arguments, `Deno.args` unless given
 */
export function expectNoArguments(description: string, args: string[] = Deno.args): void {
  parseCommandLine(args, { usage: "[-h]", description }, ({ positionals }) => {
    if (positionals.length > 0) throw new UsageError("This script takes no arguments.");
  });
}

/**
 * Checks that a file named on the command line is a regular file that can be read.
 *
 * @example
 * ```ts
 * import { readableFile } from "./cli.ts";
 * const poem = readableFile("poetry/ecstasy.txt"); // "poetry/ecstasy.txt"
 * ```
 *
 * @param path the file as typed
 * @returns `path`, unchanged
 * @throws {UsageError} `No such file: PATH`, `Not a file: PATH` or `Cannot read PATH: REASON`
 */
export function readableFile(path: string): string {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new UsageError(`No such file: ${path}`);
    throw error;
  }
  if (!info.isFile) throw new UsageError(`Not a file: ${path}`);
  try {
    using file = Deno.openSync(path);
    file.readSync(new Uint8Array(1)); // opening is not enough: some files fail on reading
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error; // a missing -R: Deno's message
    throw new UsageError(`Cannot read ${path}: ${(error as Error).message}`);
  }
  return path;
}

/**
 * Parses a number given on the command line, such as a delay in seconds or a
 * count of bytes.
 *
 * @example
 * ```ts
 * import { parseNumber } from "./cli.ts";
 * parseNumber("0.1", "--delay", { min: 0 }); // 0.1
 * parseNumber("30", "--num-bytes", { integer: true, min: 1 }); // 30
 * parseNumber("x", "--num-bytes", { integer: true }); // throws UsageError
 * ```
 *
 * @param text the number as typed
 * @param name what it is, for the error message (`--delay`)
 * @param rules `integer`: whole numbers only; `min`, `max`: the smallest and largest allowed
 * @returns the number
 * @throws {UsageError} when `text` is not such a number
 */
export function parseNumber(
  text: string,
  name: string,
  rules: { integer?: boolean; min?: number; max?: number } = {},
): number {
  const kind = rules.integer ? "an integer" : "a number";
  const pattern = rules.integer
    ? /^[+-]?[0-9]+$/
    : /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;
  const value = Number(text);
  if (!pattern.test(text.trim()) || !Number.isFinite(value)) {
    throw new UsageError(`${name} must be ${kind}, not '${text}'.`);
  }
  if (rules.min !== undefined && value < rules.min) {
    throw new UsageError(`${name} must be at least ${rules.min}, not ${text}.`);
  }
  if (rules.max !== undefined && value > rules.max) {
    throw new UsageError(`${name} must be at most ${rules.max}, not ${text}.`);
  }
  return value;
}
