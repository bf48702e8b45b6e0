import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";

/** Raised when another trainops process already uses the store. */
export class InstanceLockedError extends Error {
  override readonly name = "InstanceLockedError";
}

/** A held lock; release() removes it. */
export interface InstanceLock {
  readonly path: string;
  release(): void;
}

/**
 * Takes `<store>.lock` so that two daemons never poll, alert and edit configs for the same
 * runs at once (each would send every alert). A lock left by a process that died is taken
 * over; a live holder is named in the error.
 */
export function acquireInstanceLock(storePath: string): InstanceLock {
  const path = `${storePath}.lock`;
  mkdirSync(dirname(path), { recursive: true });
  const me = `${process.pid} ${hostname()}`;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(path, "wx", 0o644);
      writeSync(fd, `${me}\n`);
      closeSync(fd);
      return {
        path,
        release: () => {
          try {
            if (readFileSync(path, "utf8").trim() === me) rmSync(path);
          } catch {
            // Already gone.
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = readHolder(path);
      if (holder && holder.host === hostname() && isAlive(holder.pid)) {
        throw new InstanceLockedError(
          `another trainops (pid ${holder.pid}) is already running on ${storePath}; stop it first, or give this one another store: in its config`,
        );
      }
      if (holder && holder.host !== hostname()) {
        throw new InstanceLockedError(
          `${storePath} is locked by trainops pid ${holder.pid} on host ${holder.host}; if that process is gone, delete ${path}`,
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new InstanceLockedError(
    `could not take ${path}; another trainops is starting at the same time`,
  );
}

function readHolder(path: string): { pid: number; host: string } | null {
  try {
    const [pid, host] = readFileSync(path, "utf8").trim().split(" ");
    return pid && host ? { pid: Number(pid), host } : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
