/**
 * The exercises at the end of the article's Parts 2 to 4, in our words: what each asks,
 * the script it starts from, our answer, and what `deno task exercise ID FILE` does to
 * check a learner's answer.
 *
 * @example
 * ```ts
 * import { EXERCISES } from "./catalogue.ts";
 * for (const exercise of EXERCISES) console.log(exercise.id, exercise.task);
 * ```
 *
 * @module
 */

import {
  checkAsyncGetPoetry,
  checkCountdownLoopingCall,
  checkGivesUp,
  checkSurvivesRefusal,
  checkThreeCounters,
  type ExerciseCheck,
} from "./checks.ts";

/**
 * One exercise.
 *
 * @example
 * ```ts
 * import type { Exercise } from "./catalogue.ts";
 * const checkable = (exercise: Exercise) => exercise.check !== undefined;
 * ```
 */
export interface Exercise {
  /** The part and the number: `3.1`. */
  id: string;
  /** What it asks, in one sentence. */
  task: string;
  /** The script (or scripts) to start from. */
  startFrom: string;
  /** Where our answer is. */
  ourAnswer: string;
  /** What the checker does with FILE; or, for an exercise it cannot check, why. */
  checking: string;
  /** The check, for an exercise the checker can run. */
  check?: ExerciseCheck;
}

/**
 * Every exercise, in the article's numbering.
 *
 * @example
 * ```ts
 * import { EXERCISES } from "./catalogue.ts";
 * const countdown = EXERCISES.find((exercise) => exercise.id === "3.2");
 * ```
 */
export const EXERCISES: readonly Exercise[] = [
  {
    id: "2.1",
    task: "Time the blocking and the asynchronous clients against different numbers of " +
      "slow poetry servers, with different settings. Which one wins, and by how much?",
    startFrom: "deno task servers, blocking-client/get-poetry.ts, async-client/get-poetry.ts",
    ourAnswer: "solutions/part-2/timing.ts and its results in solutions/part-2/README.md",
    checking: "An experiment: nothing to check. Run it, guess, measure, then compare with " +
      "our table.",
  },
  {
    id: "2.2",
    task: "Could the asynchronous client offer a getPoetry function that returns the text " +
      "of the poem? Why not?",
    startFrom: "async-client/get-poetry.ts",
    ourAnswer: "solutions/part-2/README.md, section 2",
    checking: "A written answer: nothing to run. Write yours down, then read ours.",
  },
  {
    id: "2.3",
    task: "What would a getPoetry for the asynchronous client look like, analogous to the " +
      "blocking one? Write one that takes a callback, or returns a promise, and use it to " +
      "fetch every poem at once.",
    startFrom:
      "async-client/get-poetry.ts (and lib/reactor, as twisted-client/get-poetry.ts uses it)",
    ourAnswer: "solutions/part-2/get-poetry-callback.ts, solutions/part-2/get-poetry-promise.ts",
    checking: "Looks in FILE for a function getPoetry that takes a callback or returns a " +
      "promise. Starts three slow servers of its own (about 1.2 s, 0.6 s and 0.7 s) and runs " +
      "FILE PORT PORT PORT, traced: every poem must be read to the end (the servers see it), " +
      "the three connections open at once, the whole in about the slowest server's time " +
      "rather than the sum (and, where its trace shows its sockets, bytes arriving on all " +
      "three at once); FILE must then end by itself, with exit status 0 and no error that " +
      "nobody caught.",
    check: checkAsyncGetPoetry,
  },
  {
    id: "3.1",
    task: "Make the countdown run three counters at once, each at its own rate, and stop " +
      "the reactor when all of them are done.",
    startFrom: "basic/countdown.ts",
    ourAnswer: "solutions/part-3/countdowns.ts",
    checking: "Runs FILE (no arguments), traced, and looks at its reactor's delayed calls. " +
      "A counter is a chain of callLater calls, each made from inside the call before. " +
      "There must be three, at clearly different delays, running at the same time; each " +
      "must count to its end: when the reactor stops, none of their calls may still be " +
      "waiting. The reactor must be stopped soon after the last count, and FILE end with " +
      "exit status 0. What it prints does not matter.",
    check: checkThreeCounters,
  },
  {
    id: "3.2",
    task: "Rewrite the countdown with LoopingCall, using only its start and stop.",
    startFrom: "basic/countdown.ts, lib/reactor/task.ts",
    ourAnswer: "solutions/part-3/countdown-looping.ts",
    checking: "Runs FILE (no arguments), traced: a LoopingCall must run (three times or " +
      "more), however it is imported or made; then nothing may be left waiting when the " +
      "reactor stops, soon after the loop's last call, and FILE must end with exit status " +
      "0. What it prints does not matter.",
    check: checkCountdownLoopingCall,
  },
  {
    id: "4.1",
    task: "Make the reactor poetry client survive a server it cannot connect to: report " +
      "it, get the other poems, end normally.",
    startFrom: "twisted-client/get-poetry.ts",
    ourAnswer: "solutions/part-4/get-poetry-robust.ts",
    checking: "Starts two slow servers of its own and runs FILE LIVE REFUSED LIVE, traced, " +
      "the middle port one where connecting is refused. Both live poems must be read to the " +
      "end (the servers see every byte sent and the client staying until they close), and " +
      "FILE must end soon after, with exit status 0. An error that nobody caught fails; " +
      "one your program catches and prints (even with its stack) does not.",
    check: checkSurvivesRefusal,
  },
  {
    id: "4.2",
    task: "With callLater, give up on a poem that has not finished after a given time, " +
      "and cancel that timer for every poem that does finish in time.",
    startFrom: "twisted-client/get-poetry.ts, IDelayedCall in lib/reactor/interfaces.ts",
    ourAnswer: "solutions/part-4/get-poetry-timeout.ts",
    checking: "FILE must take the time limit as --timeout S, before the ports. Starts three " +
      "slow servers of its own, the middle one far too slow (6 s), and runs FILE --timeout 1 " +
      "FAST SLOW FAST, traced: the fast poems must be read to the end, the slow one given up " +
      "(its connection closed) about 1 s in, and FILE must end soon after (any exit status, " +
      "no error that nobody caught). Its timeouts (callLater calls of about 1 s) must fire " +
      "only for poems given up: every other one cancelled, none left waiting.",
    check: checkGivesUp,
  },
];
