import { readFileSync } from "node:fs";
import { hostname } from "node:os";

/** A process as another process can recognise it later: a pid alone may be reused. */
export interface ProcessIdentity {
  host: string;
  pid: number;
  /**
   * The boot and the process's start (clock ticks since boot, /proc/PID/stat field 22): the same
   * pid after a reboot or in a new container has another. Empty where /proc is missing.
   */
  start: string;
}

/** This process's identity. */
export function currentProcess(): ProcessIdentity {
  return { host: hostname(), pid: process.pid, start: processStart(process.pid) ?? "" };
}

/**
 * Whether the process still runs: true or false on this host (same pid and same start), null
 * for another host, which only the lock's renewals can speak for.
 */
export function processAlive(identity: ProcessIdentity): boolean | null {
  if (identity.host !== hostname()) return null;
  const start = processStart(identity.pid);
  if (start === null) return false;
  // Without /proc there is no start time to compare; a live pid is the best evidence left.
  return identity.start === "" || start === "" || start === identity.start;
}

function processStart(pid: number): string | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return procless(pid);
  }
  // The command name (field 2) may hold spaces and parentheses: fields count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = fields[19];
  if (ticks === undefined) return null;
  // A zombie has exited; it is only waiting to be reaped.
  if (fields[0] === "Z") return null;
  return `${bootId()}:${ticks}`;
}

/** Without /proc (macOS): whether the pid exists at all, with no start time to compare. */
function procless(pid: number): string | null {
  try {
    readFileSync("/proc/self/stat");
    return null; // /proc works: the pid is gone.
  } catch {
    try {
      process.kill(pid, 0);
      return "";
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "EPERM" ? "" : null;
    }
  }
}

let cachedBootId: string | null = null;

function bootId(): string {
  if (cachedBootId === null) {
    try {
      cachedBootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    } catch {
      cachedBootId = "";
    }
  }
  return cachedBootId;
}
