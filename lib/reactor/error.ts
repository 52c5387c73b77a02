/**
 * The errors of the reactor, our counterpart of `twisted.internet.error`.
 * Each is its own class, so a caller tells them apart with `instanceof`;
 * `name` is the class name and the default message is Twisted's.
 *
 * | error                          | when                                                          |
 * | ------------------------------ | ------------------------------------------------------------- |
 * | `ReactorNotRunning`            | `stop()` on a reactor not running, or already stopping        |
 * | `ReactorNotRestartable`        | `run()` after `stop()`                                        |
 * | `ReactorAlreadyRunning`        | `run()` while running (a kind of `ReactorNotRestartable`)     |
 * | `ReactorAlreadyInstalledError` | `install()` when a reactor is installed already               |
 * | `AlreadyCancelled`             | `cancel`, `delay` or `reset` of a cancelled delayed call      |
 * | `AlreadyCalled`                | `cancel`, `delay` or `reset` of a delayed call that has run   |
 * | `ConnectionDone`               | the reason of a clean close (`CONNECTION_DONE` in `main.ts`)  |
 * | `ConnectionLost`               | the reason of an unclean end (`CONNECTION_LOST`)              |
 * | `ConnectionFdescWentAway`      | a watched descriptor's `fileno()` turned -1                   |
 *
 * @example
 * ```ts
 * import { ReactorNotRunning } from "./error.ts";
 * import { SelectReactor } from "./select.ts";
 *
 * try {
 *   new SelectReactor().stop();
 * } catch (error) {
 *   console.log(error instanceof ReactorNotRunning, (error as Error).message);
 *   // true Can't stop reactor that isn't running.
 * }
 * ```
 *
 * @module
 */

/** Base class of every error defined here; `name` is always the class name. */
export class ReactorError extends Error {
  /**
   * Makes the error.
   *
   * @param message what went wrong, in one line
   */
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** `stop()` was called on a reactor that is not running (never started, or already stopping). */
export class ReactorNotRunning extends ReactorError {
  /**
   * Makes the error.
   *
   * @param message defaults to Twisted's wording
   */
  constructor(message = "Can't stop reactor that isn't running.") {
    super(message);
  }
}

/**
 * `run()` was called on a reactor that was stopped with `stop()`: stopping
 * is for good. (After `crash()` the reactor may run again.)
 */
export class ReactorNotRestartable extends ReactorError {
  /**
   * Makes the error.
   *
   * @param message defaults to Twisted's wording
   */
  constructor(message = "Can't restart a reactor.") {
    super(message);
  }
}

/**
 * `run()` was called while the reactor is already running. A kind of
 * {@linkcode ReactorNotRestartable}, so that one `instanceof` catches every
 * `run()` refused.
 */
export class ReactorAlreadyRunning extends ReactorNotRestartable {
  /**
   * Makes the error.
   *
   * @param message defaults to a one-line reason
   */
  constructor(message = "The reactor is already running.") {
    super(message);
  }
}

/**
 * `install()` was called when a reactor was already installed: a program has
 * one reactor, and the first one installed (or imported) is it.
 */
export class ReactorAlreadyInstalledError extends ReactorError {
  /**
   * Makes the error.
   *
   * @param message defaults to Twisted's wording
   */
  constructor(message = "reactor already installed") {
    super(message);
  }
}

/** A delayed call was cancelled, delayed or reset after it had been cancelled. */
export class AlreadyCancelled extends ReactorError {
  /**
   * Makes the error.
   *
   * @param message defaults to a one-line reason
   */
  constructor(message = "Tried to cancel an already-cancelled event.") {
    super(message);
  }
}

/** A delayed call was cancelled, delayed or reset after it had run. */
export class AlreadyCalled extends ReactorError {
  /**
   * Makes the error.
   *
   * @param message defaults to a one-line reason
   */
  constructor(message = "Tried to cancel an already-called event.") {
    super(message);
  }
}

/**
 * The connection was closed cleanly: the reason given to `connectionLost`
 * when `doRead` returns `CONNECTION_DONE` (from `main.ts`).
 */
export class ConnectionDone extends ReactorError {
  /**
   * Makes the error.
   *
   * @param message defaults to Twisted's wording
   */
  constructor(message = "Connection was closed cleanly.") {
    super(message);
  }
}

/**
 * The connection was lost in a non-clean way (reset, error, vanished), or
 * the reactor disconnected it at shutdown.
 */
export class ConnectionLost extends ReactorError {
  /**
   * Makes the error.
   *
   * @param message defaults to Twisted's wording
   */
  constructor(message = "Connection to the other side was lost in a non-clean fashion.") {
    super(message);
  }
}

/**
 * A watched descriptor's `fileno()` returned -1: its socket was closed while
 * the reactor still watched it. A kind of {@linkcode ConnectionLost}.
 */
export class ConnectionFdescWentAway extends ConnectionLost {
  /**
   * Makes the error.
   *
   * @param message defaults to Twisted's wording
   */
  constructor(message = "File descriptor lost") {
    super(message);
  }
}
