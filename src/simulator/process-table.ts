import { readdirSync, readFileSync } from "node:fs";

/** One process as /proc shows it. */
export interface ProcessEntry {
  pid: number;
  comm: string;
  args: string[];
}

/**
 * Live (non-zombie) processes whose command line contains `marker`, read from /proc. The
 * simulated VM marks its processes by the absolute path of its `train.py`, which the trainer
 * and its workers (same argv) all carry.
 */
export function findProcesses(marker: string): ProcessEntry[] {
  const found: ProcessEntry[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const args = readFileSync(`/proc/${name}/cmdline`, "utf8")
        .split("\0")
        .filter((a) => a !== "");
      if (!args.some((arg) => arg.includes(marker))) continue;
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // The state letter follows the parenthesised comm, which may itself contain spaces.
      const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      if (state === "Z" || state === "X") continue;
      const comm = readFileSync(`/proc/${name}/comm`, "utf8").trim();
      found.push({ pid: Number(name), comm, args });
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** Sends a signal, ignoring processes that are already gone. */
export function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already exited.
  }
}
