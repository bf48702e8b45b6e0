/** Kernel figures the probe reads alongside /proc/[pid]/stat to turn ticks and pages into units. */
export interface ProcUnits {
  /** Seconds since boot, from /proc/uptime. */
  uptime: number;
  /** Clock ticks per second (getconf CLK_TCK), usually 100. */
  clockTicks: number;
  /** Bytes per page (getconf PAGESIZE), usually 4096. */
  pageSize: number;
}

/**
 * Converts raw `/proc/[pid]/stat` lines into the `pid ppid rss_kib etimes comm` lines the
 * process-table parser reads. The probe reads /proc with one `cat` instead of running `ps`,
 * which costs ~10x more CPU on a busy VM. comm may contain spaces and parentheses, so it is cut
 * at the first "(" and the last ")".
 */
export function procStatToPsLines(text: string, units: ProcUnits): string {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const open = line.indexOf(" (");
    const close = line.lastIndexOf(") ");
    if (open < 0 || close < open) continue;
    const pid = line.slice(0, open);
    const comm = line.slice(open + 2, close);
    const fields = line.slice(close + 2).split(" ");
    // After comm: state(0) ppid(1) … starttime(19) vsize(20) rss(21), per proc(5).
    const ppid = fields[1];
    const startTicks = Number(fields[19]);
    const rssPages = Number(fields[21]);
    if (!/^\d+$/.test(pid) || ppid === undefined || !Number.isFinite(rssPages)) continue;
    const elapsed = Math.max(0, Math.round(units.uptime - startTicks / units.clockTicks));
    const rssKiB = Math.round((rssPages * units.pageSize) / 1024);
    out.push(`${pid} ${ppid} ${rssKiB} ${elapsed} ${comm}`);
  }
  return out.join("\n");
}

/** Converts `grep -asF` output over /proc/[pid]/cmdline (`/proc/12/cmdline:a\0b\0c`) to `pid args`. */
export function cmdlineMatchesToArgsLines(text: string): string {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const match = /^\/proc\/(\d+)\/cmdline:(.*)$/.exec(line);
    // Arguments are NUL-separated in /proc; shown space-separated as ps does.
    if (match) out.push(`${match[1]} ${(match[2] ?? "").replaceAll("\0", " ").trimEnd()}`);
  }
  return out.join("\n");
}
