/**
 * The helpers the tests use to run lesson scripts and slow poetry servers; they live in
 * `lib/process.ts`, which the tour (`deno task demo`) shares.
 *
 * @module
 */
export * from "../../lib/process.ts";
