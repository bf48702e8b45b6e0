import { type ChildProcess, execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { waitUntil } from "./wait.ts";

/**
 * Stopping the processes a test started, always by their own pid (from the child handle or
 * the pid file the daemon wrote in the test's temp folder), never by a name.
 */

/** The pid a daemon wrote to `file`, or null when there is no file or no pid in it. */
export function readPidFile(file: string): number | null {
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, "utf8").trim());
  return Number.isInteger(pid) && pid > 1 ? pid : null;
}

/** Whether process `pid` still exists. */
export function isAlive(pid: number | null): boolean {
  if (pid === null) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends `signal` to `pid`; a process already gone is fine. */
export function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** The direct children of `pid` (sshd's per-connection processes), none when it has none. */
export function childPids(pid: number): number[] {
  try {
    return execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" })
      .split("\n")
      .map((line) => Number(line.trim()))
      .filter((n) => n > 0);
  } catch {
    return [];
  }
}

/**
 * Stops the daemons whose pids are in `pidFiles`: SIGTERM to each (but those in `skip`, already
 * killed), then SIGKILL to any still there after `graceMs`.
 */
export async function stopByPidFiles(
  pidFiles: readonly string[],
  options: { graceMs?: number; skip?: ReadonlySet<number>; what?: string } = {},
): Promise<void> {
  for (const file of pidFiles) {
    const pid = readPidFile(file);
    if (pid !== null && !options.skip?.has(pid)) signalPid(pid, "SIGTERM");
  }
  await waitUntil(() => pidFiles.every((f) => !isAlive(readPidFile(f))), {
    timeoutMs: options.graceMs ?? 10_000,
    what: options.what ?? "the daemons to exit",
  }).catch(() => {
    for (const file of pidFiles) {
      const pid = readPidFile(file);
      if (pid !== null && isAlive(pid)) signalPid(pid, "SIGKILL");
    }
  });
}

/** Stops a child this test spawned: SIGTERM, SIGKILL after `graceMs`; resolves once it exited. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}
