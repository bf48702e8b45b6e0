import { spawn } from "node:child_process";
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";
import { isNotWritable, storeNotWritable } from "../store/database.ts";

/** Raised when another trainops process already uses the store. */
export class InstanceLockedError extends Error {
  override readonly name = "InstanceLockedError";
}

/** A held lock; release() gives it up and removes the file. */
export interface InstanceLock {
  readonly path: string;
  release(): void;
}

/**
 * Takes `<store>.lock` so that two daemons never poll, alert and edit configs for the same
 * runs at once (each would send every alert).
 *
 * The lock is an OS file lock (`flock`, util-linux), held by a small child process whose stdin
 * is a pipe from us: when this process ends in any way (exit, SIGKILL, OOM kill) the pipe
 * closes, the child exits and the kernel releases the lock. So a lock is never left behind, and
 * a restarted container whose trainops is pid 1 again is not mistaken for a live holder. The
 * file names the holder (pid, host, start time) for the refusal message only. Without `flock`
 * on the machine, a PID file is the fallback.
 */
export async function acquireInstanceLock(storePath: string): Promise<InstanceLock> {
  try {
    return await takeInstanceLock(storePath);
  } catch (error) {
    // A store folder this user cannot write is a set-up mistake to name, not an errno.
    if (isNotWritable(error)) throw storeNotWritable(storePath);
    throw error;
  }
}

async function takeInstanceLock(storePath: string): Promise<InstanceLock> {
  const path = `${storePath}.lock`;
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const held = await holdWithFlock(path);
    if (held === "unavailable") return acquirePidLock(storePath);
    if (held === "busy") {
      const holder = readHolder(path);
      throw new InstanceLockedError(
        holder
          ? `another trainops (pid ${holder.pid} on ${holder.host}, started ${holder.started}) is already running on ${storePath}; stop it first, or give this one another store: in its config`
          : `another trainops is already running on ${storePath}; stop it first, or give this one another store: in its config`,
      );
    }
    // The file may have been removed and made anew between our open and our lock: the lock
    // counts only on the file the path names now.
    if (inodeOf(path) !== held.inode) {
      held.release();
      continue;
    }
    writeFileSync(path, `${process.pid} ${hostname()} ${new Date().toISOString()}\n`);
    return {
      path,
      release: () => {
        // Removed while still held, so no one can lock the old file after we let go.
        if (inodeOf(path) === held.inode) rmSync(path, { force: true });
        held.release();
      },
    };
  }
  throw new InstanceLockedError(
    `could not take ${path}; another trainops is starting at the same time`,
  );
}

interface FlockHold {
  inode: number;
  release(): void;
}

/**
 * Runs `flock` on `path` around a process that lives as long as our pipe to it. It waits up to
 * 3 s: a holder that was just killed lets go only once its own flock child has seen the pipe
 * close, a few milliseconds later.
 */
function holdWithFlock(path: string): Promise<FlockHold | "busy" | "unavailable"> {
  return new Promise((resolve) => {
    const child = spawn(
      "flock",
      ["-w", "3", path, "sh", "-c", 'stat -L -c %i -- "$1" && exec cat >/dev/null', "sh", path],
      // Its own process group: a Ctrl-C in our terminal must not release the lock before we end.
      { stdio: ["pipe", "pipe", "ignore"], detached: true },
    );
    let out = "";
    let settled = false;
    const settle = (value: FlockHold | "busy" | "unavailable") => {
      if (settled) return;
      settled = true;
      resolve(value);
    };
    child.on("error", () => settle("unavailable"));
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (!out.includes("\n")) return;
      child.stdout.destroy();
      child.unref();
      (child.stdin as unknown as { unref?: () => void }).unref?.();
      settle({
        inode: Number(out.trim()),
        release: () => {
          child.stdin.end();
          child.stdin.destroy();
        },
      });
    });
    child.on("exit", (code) => {
      // 1: held by someone else. 127/126: no sh or flock could not run its command.
      settle(code === 1 ? "busy" : "unavailable");
    });
  });
}

function inodeOf(path: string): number | null {
  try {
    return statSync(path).ino;
  } catch {
    return null;
  }
}

/** The fallback without `flock`: a PID file, taken over when its process is gone. */
function acquirePidLock(storePath: string): InstanceLock {
  const path = `${storePath}.lock`;
  const me = `${process.pid} ${hostname()} ${new Date().toISOString()}`;
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
      if (
        holder &&
        holder.host === hostname() &&
        holder.pid !== process.pid &&
        isAlive(holder.pid)
      ) {
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

function readHolder(path: string): { pid: number; host: string; started: string } | null {
  try {
    const [pid, host, started] = readFileSync(path, "utf8").trim().split(" ");
    return pid && host
      ? { pid: Number(pid), host, started: started ?? "at an unknown time" }
      : null;
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
