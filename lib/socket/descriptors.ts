/**
 * The process's table of sockets, as a kernel keeps one: descriptors handed out lowest
 * first, within the open-files limit; sockets by the id the worker knows them by; the
 * closed ones whose memory the worker still uses; and what the process still owes the
 * network when it ends.
 *
 * @example
 * ```ts ignore
 * import { freeFdWithinLimit, socketForFd } from "./descriptors.ts";
 * const fd = freeFdWithinLimit(); // TooManyOpenFiles past `ulimit -n`
 * console.log(socketForFd(fd)); // undefined: nobody has it yet
 * ```
 * @module
 */

import { control } from "./control.ts";
import { SocketError } from "./errors.ts";
import { HEADER } from "./header.ts";
import { kernelDead } from "./link.ts";
import { TX } from "./ring.ts";
import type { Socket } from "./socket.ts";
import { currentEvent, WAITS } from "./waits.ts";

/** Sockets by descriptor, as a kernel's descriptor table. */
const socketsByFd = new Map<number, Socket>();
/**
 * Sockets by their worker id (ids are never reused, descriptors are), a listener's
 * spares included: the worker's news names them by id before they have a descriptor.
 */
const socketsById = new Map<number, Socket>();
let nextId = 1;

/** No descriptor below this one is free: where the search for a free one starts. */
let firstMaybeFree = 3;

/**
 * A new id for a socket, and the socket known by it from now on.
 *
 * @example
 * ```ts ignore
 * const id = enterSocket(this);
 * ```
 */
export function enterSocket(socket: Socket): number {
  const id = nextId++;
  socketsById.set(id, socket);
  return id;
}

/**
 * Forgets a socket's id: the worker's news about it is ignored from now on.
 *
 * @example
 * ```ts ignore
 * forgetId(socket.id);
 * ```
 */
export function forgetId(id: number): void {
  socketsById.delete(id);
}

/**
 * Gives a socket its descriptor in the table.
 *
 * @example
 * ```ts ignore
 * registerFd(freeFdWithinLimit(), socket);
 * ```
 */
export function registerFd(fd: number, socket: Socket): void {
  socketsByFd.set(fd, socket);
}

/** The lowest free descriptor, as a kernel hands them out (0 to 2 are stdio). */
function lowestFreeFd(): number {
  let fd = firstMaybeFree;
  while (socketsByFd.has(fd)) fd++;
  firstMaybeFree = fd + 1;
  return fd;
}

/**
 * The lowest free descriptor; `TooManyOpenFiles` (EMFILE) past the open-files limit.
 *
 * @example
 * ```ts ignore
 * const fd = freeFdWithinLimit();
 * ```
 */
export function freeFdWithinLimit(): number {
  const fd = lowestFreeFd();
  if (fd >= openFilesLimit()) throw SocketError.fromCode("EMFILE");
  return fd;
}

/**
 * Gives a descriptor back.
 *
 * @example
 * ```ts ignore
 * freeFd(5);
 * ```
 */
export function freeFd(fd: number): void {
  socketsByFd.delete(fd);
  firstMaybeFree = Math.min(firstMaybeFree, fd);
}

/**
 * The socket with this descriptor, if one is open.
 *
 * @example
 * ```ts ignore
 * socketForFd(3)?.readiness();
 * ```
 */
export function socketForFd(fd: number): Socket | undefined {
  return socketsByFd.get(fd);
}

/**
 * The socket with this worker id, if it is still open (or a spare, without a
 * descriptor).
 *
 * @example
 * ```ts ignore
 * socketForId(id)?.fileno();
 * ```
 */
export function socketForId(id: number): Socket | undefined {
  return socketsById.get(id);
}

/**
 * All open sockets, a listener's spares included.
 *
 * @example
 * ```ts ignore
 * for (const socket of openSockets()) console.log(socket.fileno());
 * ```
 */
export function openSockets(): IterableIterator<Socket> {
  return socketsById.values();
}

/**
 * Listeners told when a socket changes on the main thread's side (used by `Poll`).
 *
 * @example
 * ```ts ignore
 * localChangeListeners.add((socket, fd) => console.log(fd, "changed"));
 * ```
 */
export const localChangeListeners: Set<(socket: Socket, fd: number) => void> = new Set();

let filesLimit: number | undefined;

/**
 * The process's limit on open files (the soft `ulimit -n`), read once from
 * `/proc/self/limits` where Deno lets us read it (it asks for `-A`); otherwise no limit
 * is assumed here, and the operating system's own EMFILE is what the first call past
 * it gets (a connect, an accept, a bind).
 */
function openFilesLimit(): number {
  if (filesLimit !== undefined) return filesLimit;
  filesLimit = Infinity;
  try {
    const path = "/proc/self/limits";
    if (Deno.permissions.querySync({ name: "read", path }).state === "granted") {
      const line = /^Max open files\s+(\d+)/m.exec(Deno.readTextFileSync(path));
      if (line) filesLimit = Number(line[1]);
    }
  } catch {
    // No such file here (not Linux): rely on the operating system's EMFILE.
  }
  return filesLimit;
}

// ---------------------------------------------------------------------------
// Closed sockets, and the end of the process.

/** Closed sockets whose memory the worker may still use, in the order they were closed. */
const releasing: Array<{ header: Int32Array; freeMemory(): void }> = [];

/**
 * Keeps a closed socket's memory until the worker is done with it.
 *
 * @example
 * ```ts ignore
 * releaseLater(socket);
 * ```
 */
export function releaseLater(socket: { header: Int32Array; freeMemory(): void }): void {
  releasing.push(socket);
}

/**
 * Frees the memory of closed sockets the worker is done with, oldest first (they are
 * released about in the order they were closed).
 *
 * @example
 * ```ts ignore
 * freeReleasedMemory();
 * ```
 */
export function freeReleasedMemory(): void {
  while (releasing.length > 0 && Atomics.load(releasing[0].header, HEADER.RELEASED) === 1) {
    (releasing.shift() as { freeMemory(): void }).freeMemory();
  }
}

/** How long the end of the program waits for a peer that takes no bytes, in ms. */
const EXIT_STALL_MS = 2000;

/** The bytes a socket's header says are queued but not yet handed to the network. */
function unsentBytes(header: Int32Array): number {
  if (Atomics.load(header, HEADER.BROKEN) === 1 || Atomics.load(header, HEADER.RELEASED) === 1) {
    return 0;
  }
  return (Atomics.load(header, TX.WRITE) - Atomics.load(header, TX.READ)) | 0;
}

/**
 * Has the end of the program deliver the bytes already sent: called once, as the worker
 * starts (`requireKernel(deliverUnsentBytesAtExit)`).
 *
 * @example
 * ```ts ignore
 * requireKernel(deliverUnsentBytesAtExit);
 * ```
 */
export function deliverUnsentBytesAtExit(): void {
  addEventListener("unload", deliverUnsentBytes);
}

/**
 * At the end of the program, waits until the worker has handed every byte already sent
 * to the network, open sockets and closed ones alike, as an operating system still
 * delivers what a process sent before it ended. A peer that takes nothing for two
 * seconds is given up on, so that a program never hangs at its end.
 */
function deliverUnsentBytes(): void {
  const headers = [...socketsByFd.values(), ...releasing].map((socket) => socket.header);
  let lastUnsent = -1;
  let stalledSince = performance.now();
  for (;;) {
    const seen = currentEvent();
    let unsent = 0;
    for (const header of headers) unsent += unsentBytes(header);
    if (unsent === 0 || kernelDead()) return;
    if (unsent !== lastUnsent) {
      lastUnsent = unsent;
      stalledSince = performance.now();
    } else if (performance.now() - stalledSince > EXIT_STALL_MS) {
      return;
    }
    Atomics.wait(control, WAITS.EVENTS, seen, 50);
  }
}
