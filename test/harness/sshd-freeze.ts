import { readdirSync, readFileSync } from "node:fs";

/** The per-connection sshd processes a listener forked (its children and theirs named sshd*). */
export function sessionProcesses(listener: number): number[] {
  const parents = new Map<number, { ppid: number; comm: string }>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(Number(entry), { ppid, comm });
    } catch {
      // Gone meanwhile.
    }
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const [child, info] of parents) {
      if (info.ppid === pid && info.comm.startsWith("sshd")) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(listener);
  return found;
}

/**
 * Freezes a test's own sshd the way a hung VM does: SIGSTOP on its listener (new connections
 * get no banner) and on every session it forked (open ones answer nothing). Returns the
 * frozen pids and a thaw that sends each SIGCONT.
 */
export function freezeSshd(listener: number): { pids: number[]; thaw(): void } {
  process.kill(listener, "SIGSTOP");
  const pids = [listener, ...sessionProcesses(listener)];
  for (const pid of pids.slice(1)) process.kill(pid, "SIGSTOP");
  return {
    pids,
    thaw: () => {
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGCONT");
        } catch {
          // Ended meanwhile.
        }
      }
    },
  };
}
