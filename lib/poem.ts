/**
 * A poem as it arrives: bytes decoded as one UTF-8 stream, so a character split between
 * two reads still decodes, kept as a list of pieces (never by repeated concatenation, so
 * receiving stays linear in the poem's size), with its size in bytes and in characters
 * (code points).
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
  readonly #pieces: string[] = [];
  #bytes = 0;
  #characters = 0;

  /** Adds the next bytes of the poem. */
  add(bytes: Uint8Array): void {
    this.#bytes += bytes.length;
    this.#keep(this.#decoder.decode(bytes, { stream: true }));
  }

  /** Marks the end: bytes of an unfinished character become U+FFFD. */
  end(): void {
    this.#keep(this.#decoder.decode());
  }

  /** Bytes received. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Characters (code points) decoded. */
  get characters(): number {
    return this.#characters;
  }

  /** The text so far. */
  get text(): string {
    return this.#pieces.join("");
  }

  #keep(piece: string): void {
    if (piece === "") return;
    this.#pieces.push(piece);
    this.#characters += piece.length - (piece.match(SURROGATE_PAIR)?.length ?? 0);
  }
}
