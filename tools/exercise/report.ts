/**
 * The report every exercise check writes into: a line per thing checked as it is
 * checked, and at the end `passed`, or what failed with a hint.
 *
 * @example
 * ```ts
 * import { Report } from "./report.ts";
 *
 * const report = new Report();
 * report.check(true, "it ended by itself", "Call reactor.stop().");
 * Deno.exit(report.finish());
 * ```
 *
 * @module
 */

/**
 * Something that did not hold, and where to look.
 *
 * @example
 * ```ts
 * import type { Failure } from "./report.ts";
 * const failure: Failure = { what: "it stopped", hint: "Call stop()." };
 * ```
 */
export interface Failure {
  /** What was checked, with what was seen. */
  what: string;
  /** Where to look. */
  hint: string;
}

/**
 * The checker's output: a line per thing checked (`ok` or `FAIL`), then the verdict.
 *
 * @example
 * ```ts
 * import { Report } from "./report.ts";
 * const report = new Report();
 * report.note("started a server on port 40000");
 * report.check(true, "the poem was sent whole", "Read until the server closes.");
 * console.log(report.finish()); // prints "passed", then 0
 * ```
 */
export class Report {
  readonly #failures: Failure[] = [];

  /**
   * A report that prints with `write`: `console.log` unless told.
   *
   * @param write where each line goes
   */
  constructor(readonly write: (line: string) => void = console.log) {}

  /**
   * Prints a line saying what the checker did.
   *
   * @example
   * ```ts
   * import { Report } from "./report.ts";
   * new Report().note("server on port 40000: poetry/science.txt");
   * ```
   *
   * @param text the line
   */
  note(text: string): void {
    this.write(`  ${text}`);
  }

  /**
   * Prints `ok` or `FAIL` and what was checked; remembers a failure with its hint.
   *
   * @example
   * ```ts
   * import { Report } from "./report.ts";
   * const report = new Report();
   * report.check(2 + 2 === 5, "two and two make five", "Count again."); // FAIL  two and two ...
   * ```
   *
   * @param holds whether it held
   * @param what what was checked, with what was seen
   * @param hint where to look when it does not hold
   * @returns `holds`
   */
  check(holds: boolean, what: string, hint: string): boolean {
    this.write(`  ${holds ? "ok  " : "FAIL"}  ${what}`);
    if (!holds) this.#failures.push({ what, hint });
    return holds;
  }

  /**
   * The things that did not hold so far, each with its hint.
   *
   * @example
   * ```ts
   * import { Report } from "./report.ts";
   * const report = new Report(() => {});
   * report.check(false, "it stopped", "Call stop().");
   * console.log(report.failures[0].what); // it stopped
   * ```
   */
  get failures(): readonly Failure[] {
    return this.#failures;
  }

  /**
   * Whether every check so far held.
   *
   * @example
   * ```ts
   * import { Report } from "./report.ts";
   * new Report().passing; // true: nothing has failed yet
   * ```
   */
  get passing(): boolean {
    return this.#failures.length === 0;
  }

  /**
   * Prints `passed`, or `failed:` with each failure and its hint.
   *
   * @example
   * ```ts
   * import { Report } from "./report.ts";
   * Deno.exitCode = new Report().finish(); // prints "passed"; 0
   * ```
   *
   * @returns the exit status: 0 when passed, 1 when failed
   */
  finish(): number {
    if (this.passing) {
      this.write("passed");
      return 0;
    }
    this.write(
      `failed: ${this.#failures.length === 1 ? "one check" : `${this.#failures.length} checks`}`,
    );
    for (const { what, hint } of this.#failures) {
      this.write(`  - ${what}`);
      this.write(`    hint: ${hint}`);
    }
    return 1;
  }
}
