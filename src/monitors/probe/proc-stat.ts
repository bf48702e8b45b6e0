/** Kernel figures the probe reads alongside /proc/[pid]/stat to turn ticks and pages into units. */
export interface ProcUnits {
  /** Seconds since boot, from /proc/uptime. */
  uptime: number;
  /** Clock ticks per second (getconf CLK_TCK), usually 100. */
  clockTicks: number;
  /** Bytes per page (getconf PAGESIZE), usually 4096. */
  pageSize: number;
}

/** One process from `/proc/PID/stat`, in units. */
export interface ProcStatRow {
  pid: number;
  ppid: number;
  /** Session id (the pid of the session leader). */
  session: number;
  /** Start time in clock ticks after boot, as the kernel keeps it (a pid's identity). */
  startTicks: number;
  rssKiB: number;
  elapsedSeconds: number;
  comm: string;
}

/**
 * Parses raw `/proc/[pid]/stat` lines. The probe reads /proc with one `cat` instead of running
 * `ps`, which costs ~10x more CPU on a busy VM. comm may contain spaces and parentheses, so it
 * is cut at the first "(" and the last ")".
 */
export function parseProcStat(text: string, units: ProcUnits): ProcStatRow[] {
  const out: ProcStatRow[] = [];
  for (const line of text.split("\n")) {
    const open = line.indexOf(" (");
    const close = line.lastIndexOf(") ");
    if (open < 0 || close < open) continue;
    const pid = line.slice(0, open);
    const comm = line.slice(open + 2, close);
    const fields = line.slice(close + 2).split(" ");
    // After comm: state(0) ppid(1) pgrp(2) session(3) … starttime(19) vsize(20) rss(21), per proc(5).
    const ppid = Number(fields[1]);
    const session = Number(fields[3]);
    const startTicks = Number(fields[19]);
    const rssPages = Number(fields[21]);
    if (!/^\d+$/.test(pid) || !Number.isFinite(ppid) || !Number.isFinite(rssPages)) continue;
    if (fields[0] === "Z" || fields[0] === "X") continue;
    out.push({
      pid: Number(pid),
      ppid,
      session,
      startTicks,
      elapsedSeconds: Math.max(0, Math.round(units.uptime - startTicks / units.clockTicks)),
      rssKiB: Math.round((rssPages * units.pageSize) / 1024),
      comm,
    });
  }
  return out;
}

/** Converts `grep -asH` output over /proc/[pid]/cmdline (`/proc/12/cmdline:a\0b\0c`) to `pid args`. */
export function cmdlineMatchesToArgsLines(text: string): string {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const match = /^\/proc\/(\d+)\/cmdline:(.*)$/.exec(line);
    // Arguments are NUL-separated in /proc; shown space-separated as ps does.
    if (match) out.push(`${match[1]} ${(match[2] ?? "").replaceAll("\0", " ").trimEnd()}`);
  }
  return out.join("\n");
}
