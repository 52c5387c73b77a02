/**
 * Runs every benchmark of the project and writes their figures to `bench/RESULTS.md`.
 *
 * Each `bench/*_bench.ts` is a script that prints one Markdown section; this runs them
 * one after another (never side by side, so they do not disturb each other's figures)
 * and puts the sections together.
 *
 * Run: `deno task bench` (or `deno task bench socket` for the files whose name has "socket").
 *
 * @module
 */

import { ROOT } from "./lib.ts";

const only = Deno.args[0];
const scripts = [...Deno.readDirSync(`${ROOT}/bench`)]
  .map((entry) => entry.name)
  .filter((name) => name.endsWith("_bench.ts") && (!only || name.includes(only)))
  .sort();

const sections: string[] = [];
for (const script of scripts) {
  console.error(`running bench/${script} ...`);
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `bench/${script}`],
    cwd: ROOT,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(output.stdout).trim();
  if (output.code !== 0) {
    sections.push(`## bench/${script}\n\nFailed with exit status ${output.code}.\n`);
  } else {
    sections.push(text);
  }
  console.log(text);
}

const header = [
  "# Benchmark results",
  "",
  "Written by `deno task bench` (bench/run.ts); each section says its machine and command.",
  `Last run: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC.`,
  "",
].join("\n");
if (!only) {
  await Deno.writeTextFile(`${ROOT}/bench/RESULTS.md`, `${header}\n${sections.join("\n\n")}\n`);
}
