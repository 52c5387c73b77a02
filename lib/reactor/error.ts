/**
 * The errors of the reactor, our counterpart of `twisted.internet.error`.
 *
 * Each one is its own class, so a caller can tell them apart with
 * `instanceof`:
 *
 * @example
 * ```ts
 * import { ReactorNotRunning } from "./error.ts";
 * import { SelectReactor } from "./select.ts";
 *
 * try {
 *   new SelectReactor().stop();
 * } catch (error) {
 *   console.log(error instanceof ReactorNotRunning); // true
 * }
 * ```
 *
 * @module
 */

/** Base class of every error defined here; `name` is always the class name. */
export class ReactorError extends Error {
  /** @param message what went wrong, in one line */
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * `stop()` was called on a reactor that is not running (never started, or
 * already stopping).
 *
 * @example
 * ```ts
 * import { ReactorNotRunning } from "./error.ts";
 * const error = new ReactorNotRunning();
 * console.log(error.message); // "Can't stop reactor that isn't running."
 * ```
 */
export class ReactorNotRunning extends ReactorError {
  /** @param message defaults to the reason given by Twisted */
  constructor(message = "Can't stop reactor that isn't running.") {
    super(message);
  }
}

/**
 * `run()` was called on a reactor that has run before. A reactor runs once:
 * stopping it is the end of the program.
 *
 * @example
 * ```ts
 * import { ReactorNotRestartable } from "./error.ts";
 * console.log(new ReactorNotRestartable().message); // "Can't restart a reactor."
 * ```
 */
export class ReactorNotRestartable extends ReactorError {
  /** @param message defaults to a one-line reason */
  constructor(message = "Can't restart a reactor.") {
    super(message);
  }
}

/**
 * `run()` was called while the reactor is already running. It is a kind of
 * {@linkcode ReactorNotRestartable}, so `instanceof ReactorNotRestartable`
 * catches every second `run()`.
 *
 * @example
 * ```ts
 * import { ReactorAlreadyRunning, ReactorNotRestartable } from "./error.ts";
 * console.log(new ReactorAlreadyRunning() instanceof ReactorNotRestartable); // true
 * ```
 */
export class ReactorAlreadyRunning extends ReactorNotRestartable {
  /** @param message defaults to a one-line reason */
  constructor(message = "The reactor is already running.") {
    super(message);
  }
}

/**
 * `install()` was called when a reactor was already installed: a program has
 * one reactor, and the first one installed (or imported) is it.
 *
 * @example
 * ```ts
 * import { ReactorAlreadyInstalledError } from "./error.ts";
 * console.log(new ReactorAlreadyInstalledError().message); // "reactor already installed"
 * ```
 */
export class ReactorAlreadyInstalledError extends ReactorError {
  /** @param message defaults to Twisted's wording */
  constructor(message = "reactor already installed") {
    super(message);
  }
}

/**
 * A delayed call was cancelled, reset or delayed after it had been cancelled.
 *
 * @example
 * ```ts
 * import { Clock } from "./task.ts";
 * import { AlreadyCancelled } from "./error.ts";
 * const call = new Clock().callLater(1, () => {});
 * call.cancel();
 * try { call.cancel(); } catch (error) { console.log(error instanceof AlreadyCancelled); } // true
 * ```
 */
export class AlreadyCancelled extends ReactorError {
  /** @param message defaults to a one-line reason */
  constructor(message = "Tried to cancel an already-cancelled event.") {
    super(message);
  }
}

/**
 * A delayed call was cancelled, reset or delayed after it had run.
 *
 * @example
 * ```ts
 * import { Clock } from "./task.ts";
 * import { AlreadyCalled } from "./error.ts";
 * const clock = new Clock();
 * const call = clock.callLater(1, () => {});
 * clock.advance(1);
 * try { call.cancel(); } catch (error) { console.log(error instanceof AlreadyCalled); } // true
 * ```
 */
export class AlreadyCalled extends ReactorError {
  /** @param message defaults to a one-line reason */
  constructor(message = "Tried to cancel an already-called event.") {
    super(message);
  }
}

/**
 * The connection was closed cleanly: the reason given to `connectionLost`
 * when `doRead` returns {@linkcode CONNECTION_DONE} from `main.ts`.
 *
 * @example
 * ```ts
 * import { ConnectionDone } from "./error.ts";
 * console.log(new ConnectionDone().message); // "Connection was closed cleanly."
 * ```
 */
export class ConnectionDone extends ReactorError {
  /** @param message defaults to Twisted's wording */
  constructor(message = "Connection was closed cleanly.") {
    super(message);
  }
}

/**
 * The connection was lost in a non-clean way (reset, error, vanished).
 *
 * @example
 * ```ts
 * import { ConnectionLost } from "./error.ts";
 * console.log(new ConnectionLost().message);
 * // "Connection to the other side was lost in a non-clean fashion."
 * ```
 */
export class ConnectionLost extends ReactorError {
  /** @param message defaults to Twisted's wording */
  constructor(message = "Connection to the other side was lost in a non-clean fashion.") {
    super(message);
  }
}

/**
 * A registered descriptor's `fileno()` returned -1 (or threw): its socket was
 * closed while the reactor still watched it. A kind of
 * {@linkcode ConnectionLost}.
 *
 * @example
 * ```ts
 * import { ConnectionFdescWentAway, ConnectionLost } from "./error.ts";
 * console.log(new ConnectionFdescWentAway() instanceof ConnectionLost); // true
 * ```
 */
export class ConnectionFdescWentAway extends ConnectionLost {
  /** @param message defaults to Twisted's wording */
  constructor(message = "File descriptor lost") {
    super(message);
  }
}
