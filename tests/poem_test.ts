/**
 * lib/poem.ts: a poem received in pieces, decoded as one UTF-8 stream, counted in the
 * bytes that arrived and in characters.
 *
 * Run: deno test tests/poem_test.ts
 */
import assert from "node:assert/strict";
import { PoemText } from "../lib/poem.ts";

Deno.test("PoemText: a character split between two pieces decodes once", () => {
  const poem = new PoemText();
  const bytes = new TextEncoder().encode("così 🌙");
  for (let i = 0; i < bytes.length; i++) poem.add(bytes.subarray(i, i + 1)); // a byte at a time
  poem.end();
  assert.equal(poem.text, "così 🌙");
  assert.equal(poem.bytes, 10);
  assert.equal(poem.characters, 6); // the moon is one code point, two UTF-16 units
});

Deno.test("PoemText: counts the bytes that arrived, even where they are not UTF-8", () => {
  const poem = new PoemText();
  poem.add(new Uint8Array(21).fill(0xff)); // 21 bytes, none of them valid UTF-8
  poem.end();
  assert.equal(poem.bytes, 21);
  assert.equal(poem.characters, 21); // each becomes one U+FFFD
  assert.equal(new TextEncoder().encode(poem.text).length, 63, "encoding the text again differs");
});

Deno.test("PoemText: an unfinished character at the end counts as one U+FFFD", () => {
  const poem = new PoemText();
  poem.add(new TextEncoder().encode("é").subarray(0, 1));
  assert.equal(poem.characters, 0, "not counted while the rest may still come");
  poem.end();
  assert.equal(poem.characters, 1);
  assert.equal(poem.text, "\uFFFD");
});

Deno.test("PoemText: counted when asked, from where the last count stopped, each byte once", () => {
  const poem = new PoemText();
  const bytes = new TextEncoder().encode("così 🌙 e così");
  poem.add(bytes.subarray(0, 4)); // "cos" and half of "ì"
  assert.equal(poem.characters, 3);
  assert.equal(poem.characters, 3, "asking again counts nothing twice");
  poem.add(bytes.subarray(4, 8)); // the rest of "ì", a space, two bytes of the moon
  assert.equal(poem.characters, 5);
  poem.add(bytes.subarray(8));
  poem.end();
  assert.equal(poem.characters, 13);
  assert.equal(poem.characters, 13, "the end is flushed once");
  assert.equal(poem.bytes, bytes.length);
});
