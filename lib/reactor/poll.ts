/**
 * The poll reactor, like `twisted.internet.pollreactor`: it keeps one poll
 * object registered with the watched descriptors and updates it only when
 * the sets change, so a turn costs time in proportion to the descriptors
 * that are ready, not to the ones watched.
 *
 * @example
 * ```ts
 * import { install } from "./poll.ts";
 *
 * install(); // before mod.ts is first imported
 * const { reactor } = await import("./mod.ts");
 * reactor.callWhenRunning(() => reactor.stop());
 * await reactor.run();
 * ```
 *
 * @module
 */

import { Poll, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT } from "../socket/mod.ts";
import { installReactor, ReactorBase } from "./base.ts";
import { ConnectionFdescWentAway } from "./error.ts";
import type { IFileDescriptor, IReadDescriptor, IWriteDescriptor } from "./interfaces.ts";
import { CONNECTION_DONE, CONNECTION_LOST } from "./main.ts";
import { tracing } from "../trace/mod.ts";

/** What is registered on one descriptor number. */
interface Registration {
  reader?: IReadDescriptor;
  writer?: IWriteDescriptor;
}

const POLL_DISCONNECTED = POLLHUP | POLLERR | POLLNVAL;

/**
 * A reactor that waits with a poll object.
 *
 * @example
 * ```ts
 * import { PollReactor } from "./poll.ts";
 *
 * const reactor = new PollReactor();
 * reactor.callLater(0.05, () => reactor.stop());
 * await reactor.run();
 * ```
 */
export class PollReactor extends ReactorBase {
  readonly #poll = new Poll();
  readonly #byFd = new Map<number, Registration>();
  readonly #fdOf = new Map<IFileDescriptor, number>();
  /**
   * Descriptors that could not be registered (fileno -1, or refused), lost at
   * the next turn; with what their `fileno()` threw, if it did.
   */
  readonly #unregistrable = new Map<IFileDescriptor, { thrown: unknown } | undefined>();

  /**
   * Keep the poll object in step with the reader and writer sets.
   *
   * @param descriptor the descriptor that was added or removed
   */
  protected override descriptorChanged(descriptor: IFileDescriptor): void {
    const reading = this.readers.has(descriptor as IReadDescriptor);
    const writing = this.writers.has(descriptor as IWriteDescriptor);
    let fd = this.#fdOf.get(descriptor);
    if (fd === undefined) {
      if (!reading && !writing) {
        this.#unregistrable.delete(descriptor);
        return;
      }
      try {
        fd = descriptor.fileno();
      } catch (thrown) {
        this.#unregistrable.set(descriptor, { thrown });
        return;
      }
      if (fd < 0) {
        this.#unregistrable.set(descriptor, undefined);
        return;
      }
    }
    const registration = this.#byFd.get(fd) ?? {};
    const isNew = !this.#byFd.has(fd);
    if (reading) registration.reader = descriptor as IReadDescriptor;
    else if (registration.reader === descriptor) delete registration.reader;
    if (writing) registration.writer = descriptor as IWriteDescriptor;
    else if (registration.writer === descriptor) delete registration.writer;
    if (reading || writing) this.#fdOf.set(descriptor, fd);
    else this.#fdOf.delete(descriptor);

    const events = (registration.reader ? POLLIN : 0) | (registration.writer ? POLLOUT : 0);
    try {
      if (events === 0) {
        this.#byFd.delete(fd);
        if (!isNew) this.#poll.unregister(fd);
      } else if (isNew) {
        this.#poll.register(fd, events);
        this.#byFd.set(fd, registration);
      } else {
        this.#poll.modify(fd, events);
      }
    } catch {
      if (events !== 0) {
        this.#byFd.delete(fd);
        this.#fdOf.delete(descriptor);
        this.#unregistrable.set(descriptor, undefined);
      }
    }
  }

  /**
   * Wait with `pollAsync`, then dispatch each ready descriptor: a hang-up or
   * error with nothing left to read ends it (cleanly if it was being read),
   * otherwise `doRead` and then `doWrite` as the events say.
   *
   * @param timeout seconds to wait at most, or null for no limit
   */
  protected async doIteration(timeout: number | null): Promise<void> {
    const timeoutMs = timeout === null ? undefined : timeout * 1000;
    if (tracing) this.traceWaitBegin(timeout);
    let ready: [number, number][];
    try {
      ready = await this.waitFor(this.#poll.pollAsync(timeoutMs));
    } catch (error) {
      if (tracing) this.traceWaitEnd([], []);
      throw error;
    }
    if (tracing) this.#traceReady(ready);
    for (const [fd, events] of ready) {
      const registration = this.#byFd.get(fd);
      if (registration === undefined) continue;
      if (events & POLLNVAL) {
        this.#lose(registration, new ConnectionFdescWentAway());
      } else if (events & POLL_DISCONNECTED && !(events & POLLIN)) {
        this.#lose(registration, registration.reader ? CONNECTION_DONE : CONNECTION_LOST);
      } else {
        if (events & POLLIN && registration.reader) this.readOrWrite(registration.reader, true);
        const writer = this.#byFd.get(fd)?.writer;
        if (events & POLLOUT && writer) this.readOrWrite(writer, false);
      }
    }
  }

  /**
   * Disconnect the descriptors that could not be registered: their socket was
   * closed, or their `fileno()` threw (reported first).
   */
  protected override dropLostDescriptors(): void {
    for (const [descriptor, failure] of this.#unregistrable) {
      this.#unregistrable.delete(descriptor);
      if (
        this.readers.has(descriptor as IReadDescriptor) ||
        this.writers.has(descriptor as IWriteDescriptor)
      ) {
        if (failure === undefined) {
          this.disconnect(descriptor, new ConnectionFdescWentAway());
        } else {
          this.loseBrokenDescriptor(descriptor, failure.thrown);
        }
      }
    }
  }

  #traceReady(ready: [number, number][]): void {
    const readable: IFileDescriptor[] = [];
    const writable: IFileDescriptor[] = [];
    for (const [fd, events] of ready) {
      const registration = this.#byFd.get(fd);
      if (registration?.reader && events & (POLLIN | POLL_DISCONNECTED)) {
        readable.push(registration.reader);
      }
      if (registration?.writer && events & (POLLOUT | POLL_DISCONNECTED)) {
        writable.push(registration.writer);
      }
    }
    this.traceWaitEnd(readable, writable);
  }

  #lose(registration: Registration, reason: Error): void {
    const { reader, writer } = registration;
    if (reader) this.disconnect(reader, reason);
    if (writer && writer !== (reader as IFileDescriptor | undefined)) {
      this.disconnect(writer, reason);
    }
  }
}

/**
 * Install a new poll reactor as the program's reactor. Do it before anything
 * imports `mod.ts`, which would install the default (select) reactor.
 *
 * @example
 * ```ts
 * import { install, PollReactor } from "./poll.ts";
 * install();
 * const { reactor } = await import("./mod.ts");
 * console.log(reactor instanceof PollReactor); // true
 * ```
 *
 * @returns the reactor installed
 * @throws {ReactorAlreadyInstalledError} if a reactor is installed already
 */
export function install(): PollReactor {
  return installReactor(new PollReactor());
}
