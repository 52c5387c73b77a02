/**
 * `mine/`, where the README tells learners to put their answers, is theirs: git ignores
 * it, and `deno fmt`, `deno lint` and `deno check` leave it out, so that a half-done
 * answer (badly formatted, failing lint, with type errors) never breaks
 * `deno task test`.
 *
 * Run: deno test -A tests/exercise_mine_test.ts
 */

import assert from "node:assert/strict";
import { repoPath, ROOT } from "../tools/process.ts";

async function run(program: string, args: string[]): Promise<{ code: number; stderr: string }> {
  const output = await new Deno.Command(program, {
    args,
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
}

Deno.test("an answer in mine/ is ignored by git and left out of fmt, lint and check", async () => {
  const created = !existsDirectory(repoPath("mine"));
  Deno.mkdirSync(repoPath("mine"), { recursive: true });
  const name = `mine/half-done-${Deno.pid}.ts`;
  // Unformatted, an unused variable (lint), and a type error (check).
  Deno.writeTextFileSync(repoPath(name), 'const count : number = "3"\nlet unused=1;\n');
  try {
    assert.equal((await run("git", ["check-ignore", "-q", name])).code, 0, "git ignores it");
    for (const tool of ["fmt", "lint"]) {
      const { code, stderr } = await run(Deno.execPath(), [
        tool,
        ...(tool === "fmt" ? ["--check"] : []),
        name,
      ]);
      assert.equal(code, 1, stderr);
      assert.match(stderr, /No target files found/, `deno ${tool} leaves it out`);
    }
    const check = await run(Deno.execPath(), ["check", name]);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stderr, /No matching files found/);
  } finally {
    Deno.removeSync(repoPath(name));
    if (created) Deno.removeSync(repoPath("mine"));
  }
});

function existsDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}
