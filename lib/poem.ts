/**
 * A poem as it arrives: its bytes, kept as the list of chunks they came in (never by
 * repeated concatenation, so receiving stays linear in the poem's size), decoded as one
 * UTF-8 stream, so a character split between two reads still decodes and is counted
 * once. It knows its size in bytes and in characters (code points).
 *
 * Characters are counted only when asked for, from where the last count stopped: a
 * client that prints bytes only (the blocking client) never pays for decoding, which
 * costs about half a second per 256 MiB. The decoded text is counted, then dropped: the
 * bytes are the compact copy (UTF-16 text of a poem with one non-ASCII character takes
 * twice its bytes). `text` decodes again.
 *
 * @example
 * ```ts
 * import { PoemText } from "./poem.ts";
 * const poem = new PoemText();
 * const bytes = new TextEncoder().encode("così");
 * poem.add(bytes.subarray(0, 4)); // "cos" and the first byte of "ì"
 * poem.add(bytes.subarray(4));
 * poem.end();
 * console.log(poem.text, poem.bytes, poem.characters); // così 5 4
 * ```
 * @module
 */

/** Two UTF-16 code units that make one code point. */
const SURROGATE_PAIR = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;

/** Text received in pieces. */
export class PoemText {
  readonly #decoder = new TextDecoder();
  readonly #chunks: Uint8Array[] = [];
  #bytes = 0;
  #characters = 0;
  /** How many chunks the count has decoded so far. */
  #counted = 0;
  #ended = false;
  #flushed = false;

  /** Adds the next bytes of the poem (kept as they are: do not change them afterwards). */
  add(bytes: Uint8Array): void {
    this.#chunks.push(bytes);
    this.#bytes += bytes.length;
  }

  /** Marks the end: bytes of an unfinished character count as one U+FFFD. */
  end(): void {
    this.#ended = true;
  }

  /** Bytes received. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Characters (code points) received: decoded now, from where the last count stopped. */
  get characters(): number {
    while (this.#counted < this.#chunks.length) {
      this.#count(this.#decoder.decode(this.#chunks[this.#counted++], { stream: true }));
    }
    if (this.#ended && !this.#flushed) {
      this.#flushed = true;
      this.#count(this.#decoder.decode());
    }
    return this.#characters;
  }

  /** The text so far (decoded afresh at each call). */
  get text(): string {
    const decoder = new TextDecoder();
    return this.#chunks.map((chunk) => decoder.decode(chunk, { stream: true })).join("") +
      decoder.decode();
  }

  #count(piece: string): void {
    this.#characters += piece.length - (piece.match(SURROGATE_PAIR)?.length ?? 0);
  }
}
