/**
 * Byte arrays in the tests.
 *
 * @example
 * ```ts
 * import { concat } from "./bytes.ts";
 * concat([new Uint8Array([1, 2]), new Uint8Array([3])]); // Uint8Array [1, 2, 3]
 * ```
 *
 * @module
 */

/**
 * The bytes of several arrays, one after another, in one new array.
 *
 * @example
 * ```ts
 * import { concat } from "./bytes.ts";
 * const all = concat([new TextEncoder().encode("ab"), new TextEncoder().encode("c")]);
 * new TextDecoder().decode(all); // "abc"
 * ```
 *
 * @param chunks the arrays, in order
 * @returns their bytes
 */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const all = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  return all;
}
