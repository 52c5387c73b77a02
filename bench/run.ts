/**
 * Runs every benchmark of the project and writes their figures to `bench/RESULTS.md`.
 *
 * Each `bench/*_bench.ts` is a script that prints one Markdown section; this runs them
 * one after another (never side by side, so they do not disturb each other's figures)
 * and puts the sections together.
 *
 * Sections print `Goal: WHAT → FIGURE: **pass**` (or `**miss**`) lines; this gathers them
 * into a table at the top. What follows a `<!-- kept by bench/run.ts -->` line in the old
 * RESULTS.md (a profile written by hand, say) is kept at the end.
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

/** Every `Goal: ...` line of the sections, as a table: the goals at a glance. */
function goalSummary(texts: string[]): string {
  const rows: string[] = [];
  for (const line of texts.join("\n").split("\n")) {
    const match = /^Goal: (.*) → (.*): \*\*(pass|miss)\*\*$/.exec(line);
    if (match) rows.push(`| ${match[1]} | ${match[2]} | **${match[3]}** |`);
  }
  if (rows.length === 0) return "";
  return [
    "## Goals at a glance",
    "",
    "Gathered from the `Goal:` lines of the sections below.",
    "",
    "| goal | figure | |",
    "|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

const summary = goalSummary(sections);
if (summary) console.log(`\n${summary}`);
const header = [
  "# Benchmark results",
  "",
  "Written by `deno task bench` (bench/run.ts); each section says its machine and command.",
  `Last run: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC.`,
  "",
].join("\n");
/** Sections written by hand (a profile, say): kept from the last RESULTS.md, at its end. */
const KEPT_MARK = "<!-- kept by bench/run.ts -->";
let kept = "";
try {
  const previous = await Deno.readTextFile(`${ROOT}/bench/RESULTS.md`);
  const at = previous.indexOf(KEPT_MARK);
  if (at >= 0) kept = `\n${previous.slice(at).trim()}\n`;
} catch {
  // No results yet.
}
if (!only) {
  await Deno.writeTextFile(
    `${ROOT}/bench/RESULTS.md`,
    `${header}\n${summary ? `${summary}\n` : ""}${sections.join("\n\n")}\n${kept}`,
  );
}
