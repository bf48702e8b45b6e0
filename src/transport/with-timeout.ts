import { RemoteShellTimeoutError } from "./remote-shell.ts";

/**
 * Settles like `promise`, or rejects with {@link RemoteShellTimeoutError} after `ms`. The work
 * itself is not cancelled: the caller knows what to kill (a channel, a shell) when time is up.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new RemoteShellTimeoutError(`timed out after ${ms} ms`)),
      ms,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
