/** A pending {@link startIoDeadline}; `clear` cancels it (also once it is about to fire). */
export interface IoDeadline {
  clear(): void;
}

/**
 * Calls `onExpired` once `ms` have passed and the answers that came meanwhile were handled.
 *
 * Node runs a loop turn's expired timers before the I/O that arrived in the same turn. After
 * the daemon's event loop was held up (a burst of polls to store, a busy CPU at start-up), a
 * plain timer therefore fires for a VM whose banner, handshake or probe output already sits in
 * the socket, and the answer is thrown away as a timeout: a missed poll, a reconnect, and the
 * same work done again on a machine that is already busy. This timer waits two more turns of
 * I/O (`setImmediate` runs after a turn's I/O; a socket that connected in one turn is read in
 * the next) before it gives up: a deadline is about the VM's silence, not the daemon's.
 */
export function startIoDeadline(ms: number, onExpired: () => void): IoDeadline {
  let immediate: NodeJS.Immediate | null = null;
  const timer = setTimeout(() => {
    immediate = setImmediate(() => {
      immediate = setImmediate(onExpired);
    });
  }, ms);
  return {
    clear() {
      clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
    },
  };
}
