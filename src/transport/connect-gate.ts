/** Runs connection attempts at most so many at a time (see createConnectGate). */
export type ConnectGate = <T>(attempt: () => Promise<T>) => Promise<T>;

/**
 * A limit on SSH handshakes in flight across every host of the daemon. A handshake is CPU work
 * on both ends (key exchange, signatures); a hundred of them at once on a busy machine each
 * take longer than the connect timeout, all fail, and all retry together. Taken a few at a
 * time they finish in turn. The wait for a slot does not count against the connect timeout,
 * which starts with the attempt itself.
 */
export function createConnectGate(max: number): ConnectGate {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async <T>(attempt: () => Promise<T>): Promise<T> => {
    while (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    running += 1;
    try {
      return await attempt();
    } finally {
      running -= 1;
      waiting.shift()?.();
    }
  };
}
