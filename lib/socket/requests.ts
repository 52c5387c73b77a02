/**
 * What the main thread asks of the worker: requests, typed values the worker handles
 * through one table ({@linkcode RequestTable}), and send-pump wake-ups.
 *
 * The frequent requests (connect, spare, close) go through the queue of requests in
 * the control block (`queue.ts`): an `Atomics.notify` wakes a sleeping worker several
 * times sooner than a message reaches it. The rarer ones (bind, listen, shutdown, a new
 * slab, wake every sender) go as messages (`link.ts`). Ordered after them, a request never overtakes
 * what it depends on, since the main thread waits for each of those.
 *
 * A sender wake-up is the id of a socket whose send pump waits for the bytes just queued
 * (`SEND_PUMP.WAITING` in `ring.ts`), put in the queue of senders: one waiter for all
 * sockets, where a waiter per idle socket would make each `Atomics.notify` (which looks
 * through every waiter of the process) cost more the more sockets are open.
 *
 * @example
 * ```ts ignore
 * import { request } from "./requests.ts";
 * request({ op: "close", id: 7 });
 * ```
 * @module
 */

import { parentPort } from "node:worker_threads";
import { control } from "./control.ts";
import type { HeaderPlace } from "./header.ts";
import { postToKernel, requireKernel } from "./link.ts";
import { REQUESTS, SENDERS, SharedQueue } from "./queue.ts";
import { announceEvent, currentEvent, waitForEvent, workerWatching } from "./waits.ts";

/** The requests that go through the queue of requests. */
export type QueuedRequest =
  /** Connect socket `id` to the host and port its header holds where the peer's go. */
  | { op: "connect"; id: number; header: HeaderPlace }
  /**
   * A spare: socket `id` (header and rings, no descriptor yet) for listener
   * `listenerId`'s next connection to start in, as Windows' `AcceptEx` takes one.
   */
  | { op: "spare"; id: number; header: HeaderPlace; listenerId: number }
  /** Close socket `id` as close(2) would: bytes already queued still go out first. */
  | { op: "close"; id: number };

/** The requests that go as messages. */
export type MessageRequest =
  /** A new slab of shared memory, handed over before anything in it is used. */
  | { op: "slab"; index: number; buffer: SharedArrayBuffer }
  /** Bind (and listen in the kernel, as `Deno.listen` does) socket `id`. */
  | { op: "bind"; id: number; header: HeaderPlace; host: string; port: number }
  /** Start accepting on bound socket `id`. */
  | { op: "listen"; id: number; backlog: number }
  /** End socket `id`'s sending, as shutdown(SHUT_WR): the peer reads the end of the stream. */
  | { op: "shut-write"; id: number }
  /** Wake every send pump (the queue of senders was full). */
  | { op: "wake-senders" };

/** Everything the main thread asks of the worker. Ids name sockets; never reused. */
export type Request = QueuedRequest | MessageRequest;

/** The worker's handler of each kind of request. */
export type RequestTable = {
  [Op in Request["op"]]: (request: Extract<Request, { op: Op }>) => void;
};

/** The codes of queued requests, in the queue's first integer. */
const CODE = { connect: 1, spare: 2, close: 3 } as const;

// ---------------------------------------------------------------------------
// The main thread's end.

let mainQueues: { requests: SharedQueue; senders: SharedQueue } | null = null;

function queuesOfMain(): { requests: SharedQueue; senders: SharedQueue } {
  return mainQueues ??= {
    requests: new SharedQueue(control, REQUESTS),
    senders: new SharedQueue(control, SENDERS),
  };
}

/**
 * Main thread: hands the worker a request, through the queue or as a message. A full
 * queue waits for the worker to take some (it says so through the event counter).
 *
 * @example
 * ```ts ignore
 * request({ op: "listen", id: 3, backlog: 5 });
 * ```
 */
export function request(what: Request): void {
  if (what.op !== "connect" && what.op !== "spare" && what.op !== "close") {
    return postToKernel(what);
  }
  requireKernel();
  const { requests } = queuesOfMain();
  const header = what.op === "close" ? undefined : what.header;
  const listenerId = what.op === "spare" ? what.listenerId : 0;
  while (
    !requests.push(CODE[what.op], what.id, header?.slab ?? 0, header?.offset ?? 0, listenerId)
  ) {
    // Full: the worker is behind; it says when it takes requests out.
    waitForEvent(currentEvent(), 1);
  }
  // A worker watching the queue sees it without a notify.
  if (!workerWatching()) Atomics.notify(control, REQUESTS.write);
}

/**
 * Main thread: has the worker wake the send pump of socket `id`.
 *
 * @example
 * ```ts ignore
 * if (rings.callPumpIfWaiting()) wakeSender(id);
 * ```
 */
export function wakeSender(id: number): void {
  if (!queuesOfMain().senders.push(id)) {
    postToKernel({ op: "wake-senders" }); // a full queue: wake them all, the slow way
    return;
  }
  if (!workerWatching()) Atomics.notify(control, SENDERS.write);
}

// ---------------------------------------------------------------------------
// The worker's end.

/**
 * Worker: takes the main thread's requests and sender wake-ups as they come, and hands
 * each request to its handler in `table`.
 *
 * @example
 * ```ts ignore
 * const server = new RequestServer(table, wakeSenderOf, slabs);
 * server.start();
 * ```
 */
export class RequestServer {
  readonly #requests = new SharedQueue(control, REQUESTS);
  readonly #senders = new SharedQueue(control, SENDERS);

  /**
   * @param table the handler of each kind of request
   * @param wakeSend wakes the send pump of a socket, by id
   * @param slabArrived settles once a slab has arrived (requests wait for their header's)
   * @param hasSlab whether a slab has arrived
   */
  constructor(
    readonly table: RequestTable,
    readonly wakeSend: (id: number) => void,
    readonly slabArrived: (slab: number) => Promise<void>,
    readonly hasSlab: (slab: number) => boolean,
  ) {}

  /** Starts serving, for good: the queues, and the messages. */
  start(onError: (error: unknown) => void): void {
    parentPort?.on("message", (message: MessageRequest) => {
      try {
        this.#handle(message);
      } catch (error) {
        onError(error);
      }
    });
    this.#serveQueuedRequests(onError);
    this.#serveSenders();
  }

  /** Whether the main thread has queued requests not yet taken. */
  requestsQueued(): boolean {
    return this.#requests.hasEntries();
  }

  /** Whether the main thread has queued sender wake-ups not yet taken. */
  sendersQueued(): boolean {
    return this.#senders.hasEntries();
  }

  /** Whether the next queued request is a connect, which needs the event loop. */
  nextIsConnect(): boolean {
    return this.#requests.hasEntries() &&
      Atomics.load(control, this.#requests.next()) === CODE.connect;
  }

  /**
   * Takes the queued requests, in order. Stops early, with `false`, at a request whose
   * header's slab has not arrived yet.
   */
  takeRequests(onError: (error: unknown) => void): boolean {
    const wasFull = this.#requests.size() >= REQUESTS.slots;
    const complete = this.#requests.consume((at) => {
      const what = decode(at);
      if (what.op !== "close" && !this.hasSlab(what.header.slab)) return false;
      try {
        this.#handle(what);
      } catch (error) {
        onError(error);
      }
    });
    if (wasFull) announceEvent(); // the main thread may wait for room
    return complete;
  }

  /** Wakes the send pumps queued so far. */
  takeSenders(): void {
    this.#senders.consume((at) => this.wakeSend(Atomics.load(control, at)));
  }

  #handle(what: Request): void {
    (this.table[what.op] as (request: Request) => void)(what);
  }

  async #serveQueuedRequests(onError: (error: unknown) => void): Promise<void> {
    for (;;) {
      const waiting = Atomics.waitAsync(control, REQUESTS.write, this.#requests.readIndex());
      if (waiting.async) await waiting.value;
      while (!this.takeRequests(onError)) {
        await this.slabArrived(Atomics.load(control, this.#requests.next() + 2));
      }
    }
  }

  async #serveSenders(): Promise<void> {
    for (;;) {
      const waiting = Atomics.waitAsync(control, SENDERS.write, this.#senders.readIndex());
      if (waiting.async) await waiting.value;
      this.takeSenders();
    }
  }
}

/** The queued request whose first integer is at cell `at`. */
function decode(at: number): QueuedRequest {
  const code = Atomics.load(control, at);
  const id = Atomics.load(control, at + 1);
  if (code === CODE.close) return { op: "close", id };
  const header = { slab: Atomics.load(control, at + 2), offset: Atomics.load(control, at + 3) };
  if (code === CODE.connect) return { op: "connect", id, header };
  return { op: "spare", id, header, listenerId: Atomics.load(control, at + 4) };
}
