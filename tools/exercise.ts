/**
 * `deno task exercise`: the article's exercises, and a check of the learner's answers.
 * Without arguments it lists the exercises; with an id, it shows that one; with an id
 * and a file, it runs the file traced, against the checker's own servers, and judges
 * what it did (its trace, what the servers saw), not what it prints or how its source
 * reads: `passed` (exit 0), or what failed and a hint (exit 1).
 *
 * @module
 */

import { fail, helpText } from "../lib/cli.ts";
import { fromCaller, fromRoot } from "./process.ts";
import { type Exercise, EXERCISES } from "./exercise/catalogue.ts";
import { Report } from "./exercise/report.ts";
import { killLearnerFiles, noteTypeErrors, typeErrors } from "./exercise/run.ts";

const SPEC = {
  usage: "[ID [FILE [ARGS...]]]",
  description: `
Lists the article's exercises, shows one (ID), or checks your answer to one
(ID FILE): FILE is run with deno run -N -R, traced, against slow poetry servers
the checker starts itself, under a time limit, and judged by what it did (its
reactor's calls, what the servers saw), never by what it prints. ARGS, if any,
are given to FILE before the checker's own arguments. It prints what it
checked, then "passed" (exit 0) or what failed with a hint (exit 1); type
errors are shown as a note. Mistakes in the command exit 2.

  deno task exercise
  deno task exercise 3.1
  deno task exercise 3.1 mine/countdowns.ts`,
};

/** `text` after `label`, wrapped at 90 columns, later lines indented under the first. */
function wrapped(label: string, text: string): string {
  const lines = [label];
  for (const word of text.split(" ")) {
    const last = lines.length - 1;
    if (lines[last].length + 1 + word.length > 90 && lines[last].trim() !== "") {
      lines.push(" ".repeat(label.length) + word);
    } else {
      lines[last] += (lines[last].endsWith(" ") ? "" : " ") + word;
    }
  }
  return lines.join("\n");
}

/** Prints one exercise in full. */
function show(exercise: Exercise): void {
  console.log(wrapped(`Exercise ${exercise.id}: `, exercise.task));
  console.log(wrapped("  start from:  ", exercise.startFrom));
  console.log(wrapped("  our answer:  ", exercise.ourAnswer));
  console.log(wrapped("  the checker: ", exercise.checking));
}

const [id, file, ...args] = Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args;
if (id === "-h" || id === "--help") {
  console.log(helpText(SPEC));
  Deno.exit(0);
}

if (id === undefined) {
  console.log("The exercises of Parts 2 to 4 (deno task exercise ID FILE checks yours):\n");
  for (const exercise of EXERCISES) {
    show(exercise);
    console.log();
  }
  console.log(
    "Put your answer in a file inside this directory (it may import ../lib/...), then run\n" +
      "deno task exercise ID FILE. Our answers pass; yours may print whatever it likes.",
  );
  Deno.exit(0);
}

const exercise = EXERCISES.find((candidate) => candidate.id === id);
if (exercise === undefined) {
  const ids = EXERCISES.map((candidate) => candidate.id).join(", ");
  fail(`no exercise ${id}: choose one of ${ids}.`, 2);
}
if (file === undefined) {
  show(exercise);
  if (exercise.check) console.log(`\nCheck yours with: deno task exercise ${exercise.id} FILE`);
  Deno.exit(0);
}
if (exercise.check === undefined) {
  show(exercise);
  fail(`exercise ${exercise.id} has nothing to run: compare with ${exercise.ourAnswer}.`, 2);
}

for (const name of ["run", "net"] as const) {
  if (Deno.permissions.querySync({ name }).state !== "granted") {
    fail("it runs files and servers: start it with deno task exercise.", 2);
  }
}

const path = fromCaller(file);
let isFile = false;
try {
  isFile = Deno.statSync(path).isFile;
} catch {
  // reported below
}
if (!isFile) fail(`no such file: ${file}`, 2);

console.log(wrapped(`Exercise ${exercise.id}: `, exercise.task));
console.log(`Checking ${fromRoot(path)}:`);
for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.addSignalListener(signal, () => {
    killLearnerFiles(); // our own servers end with us
    Deno.exit(code);
  });
}
const report = new Report();
const typeCheck = typeErrors(path); // alongside the run, at the lowest priority
await exercise.check(report, path, args);
noteTypeErrors(report, await typeCheck);
Deno.exit(report.finish());
