import { startIoDeadline } from "./io-deadline.ts";
import { RemoteShellTimeoutError } from "./remote-shell.ts";

/**
 * Settles like `promise`, or rejects with {@link RemoteShellTimeoutError} after `ms`. The work
 * itself is not cancelled: the caller knows what to kill (a channel, a shell) when time is up.
 * An answer that came in time is taken even when the daemon was too busy to see it then (see
 * startIoDeadline).
 */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const deadline = startIoDeadline(ms, () =>
      reject(new RemoteShellTimeoutError(`timed out after ${ms} ms`)),
    );
    promise.then(
      (value) => {
        deadline.clear();
        resolve(value);
      },
      (error) => {
        deadline.clear();
        reject(error);
      },
    );
  });
}
