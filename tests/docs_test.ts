/**
 * What the README promises a reader, checked against the project: the set-up pins
 * Deno's major version (as the CI does), the tour's `--fast` takes the same time
 * wherever it is given, and the layout names every top-level folder and every module
 * of lib/.
 *
 * Run: deno test -R tests/docs_test.ts
 */
import assert from "node:assert/strict";
import { repoPath } from "../tools/process.ts";

const README = Deno.readTextFileSync(repoPath("README.md"));

Deno.test("the README's set-up and the CI install the same major version of Deno", () => {
  assert.match(README, /^npm install -g deno@2$/m);
  assert.match(Deno.readTextFileSync(repoPath(".ci/run")), /npm install -g deno@2 /);
  assert.doesNotMatch(README, /npm install -g deno$/m, "an unpinned install is left");
});

Deno.test("`--fast` takes the same time wherever the README and the tour's --help give it", () => {
  const help = Deno.readTextFileSync(repoPath("tools/demo.ts"));
  const said = [README, help].flatMap((text) =>
    [
      ...text.replace(/\s+/g, " ").matchAll(
        /--fast`?(?:: | [^.;(]*\()(about [^)]*?)(?: in all)?\)/g,
      ),
    ]
      .map((match) => match[1])
  );
  assert.ok(said.length >= 3, `found: ${JSON.stringify(said)}`);
  assert.deepEqual(new Set(said), new Set(["about 6 s"]));
});

Deno.test("the README's layout names every top-level folder and every module of lib/", () => {
  const layout = README.slice(README.indexOf("## Layout"));
  const block = layout.slice(
    layout.indexOf("```") + 3,
    layout.indexOf("```", layout.indexOf("```") + 3),
  );
  const listed = new Set(block.split("\n").map((line) => line.split(/\s+/)[0]).filter(Boolean));
  const folders = [...Deno.readDirSync(repoPath("."))]
    .filter((entry) => entry.isDirectory && !entry.name.startsWith("."))
    .map((entry) => `${entry.name}/`);
  const libModules = [...Deno.readDirSync(repoPath("lib"))].map((entry) =>
    entry.isDirectory ? `lib/${entry.name}/` : `lib/${entry.name}`
  );
  for (const name of [...folders.filter((folder) => folder !== "lib/"), ...libModules]) {
    assert.ok(listed.has(name), `the layout leaves out ${name}`);
  }
});
