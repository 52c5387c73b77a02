/**
 * Where the 256 MiB download's difference between two commits comes from: the server,
 * the client's socket layer, or what the client does with the bytes. Each commit's own
 * slow poetry server (`--delay 0 --num-bytes 65536`) serves the same poem to each
 * commit's blocking client, crosswise, and to a third client: this tree's, with its
 * `PoemText` counting bytes only (the UTF-8 decoding as the bytes come taken out, in the
 * copy only). The time each client reports, the cells taking turns, `ROUNDS` rounds.
 *
 * The replacement fits `lib/poem.ts` as it was when this profile was written, at 6b266fe:
 * since 6826cdd, `PoemText` decodes only when its characters are asked for, and this
 * says the decoding line moved; run it from a checkout of 6b266fe.
 *
 * Not part of `deno task bench`. Run: `deno run -A bench/profile/download_cross.ts [ROUNDS]`
 * (BEFORE_AFTER_BASE: the commit before, 804ef49 unless told).
 *
 * @module
 */

import { makeBigPoem } from "../lib.ts";
import {
  downloadSeconds,
  type PoemServer,
  runsTable,
  startPoemServer,
  treeCopy,
} from "../trees.ts";

const BASE = Deno.env.get("BEFORE_AFTER_BASE") ?? "804ef49";
const MIB = 256;
const rounds = Number(Deno.args[0] ?? 7);
const CLIENT = "blocking-client/get-poetry.ts";
/** The line of lib/poem.ts that decodes each piece as it comes, and what replaces it. */
const DECODING = "    this.#count(this.#decoder.decode(bytes, { stream: true }));\n";

const scratch = await Deno.makeTempDir({ prefix: "download-cross-" });
const trees = {
  [`before (${BASE})`]: `${scratch}/before`,
  "after (HEAD)": `${scratch}/after`,
  "after, PoemText without decoding": `${scratch}/after-no-decoding`,
};
const poem = await makeBigPoem(MIB);
const servers: PoemServer[] = [];
const figures = new Map<string, number[]>();
try {
  await treeCopy(BASE, trees[`before (${BASE})`]);
  await treeCopy("HEAD", trees["after (HEAD)"]);
  await treeCopy("HEAD", trees["after, PoemText without decoding"]);
  const poemModule = `${trees["after, PoemText without decoding"]}/lib/poem.ts`;
  const text = await Deno.readTextFile(poemModule);
  if (text.split(DECODING).length !== 2) throw new Error("lib/poem.ts: the decoding line moved");
  await Deno.writeTextFile(poemModule, text.replace(DECODING, ""));

  const serverTrees = Object.entries(trees).slice(0, 2);
  for (const [, root] of serverTrees) servers.push(await startPoemServer(root, poem));
  const cells: Array<[string, string, number]> = [];
  for (const [serverName] of serverTrees.entries()) {
    for (const [clientName, root] of Object.entries(trees)) {
      cells.push([
        `${clientName} client, ${serverTrees[serverName][0]} server`,
        root,
        servers[serverName].port,
      ]);
    }
  }
  for (let round = 0; round < rounds; round++) {
    for (const [name, root, port] of round % 2 === 0 ? cells : [...cells].reverse()) {
      figures.set(name, [
        ...(figures.get(name) ?? []),
        await downloadSeconds(root, CLIENT, port, MIB),
      ]);
    }
  }
} finally {
  await Promise.all(servers.map((server) => server.stop()));
  await Deno.remove(poem);
  await Deno.remove(scratch, { recursive: true });
}
console.log(`${MIB} MiB, ${CLIENT}, reported seconds (${rounds} runs each, alternating)`);
console.log(runsTable("client, server", figures, 3).join("\n"));
