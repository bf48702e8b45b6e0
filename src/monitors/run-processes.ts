import {
  type ProcessRow,
  type ProcessTableSummary,
  summarizeProcesses,
} from "./parsers/process-table.ts";
import { cmdlineMatchesToArgsLines, type ProcUnits, parseProcStat } from "./probe/proc-stat.ts";

/**
 * How a run's process set was bounded: the systemd unit's cgroup, the tmux session, the tree
 * the last start launched, or the SSH user's processes working in the run's workdir.
 */
export type ProcessScope = "systemd" | "tmux" | "started" | "workdir";

/** One process of a run, as `trainops check` and `restart --dry-run` list it. */
export interface RunProcess {
  pid: number;
  ppid: number;
  role: "trainer" | "worker" | "other";
  comm: string;
  args: string;
  rssBytes: number;
}

/** A run's own processes, from the probe's process-set sections. */
export interface RunProcesses {
  scope: ProcessScope;
  summary: ProcessTableSummary;
  /** The training tree (what a stop signals), oldest first. */
  tree: RunProcess[];
}

/** The probe's process-set sections (see processSetScript). */
export interface ProcessSections {
  /** The probe script's own pid and the SSH user's uid. */
  self: string;
  /** `<scope> [pid …]`. */
  scope: string;
  /** Pids of the user's processes working in the run's workdir (space-separated). */
  wd?: string;
  /** Raw /proc/PID/stat lines. */
  ps: string;
  /** `/proc/PID/cmdline:<args>` lines. */
  args: string;
}

const SCOPES: readonly ProcessScope[] = ["systemd", "tmux", "started", "workdir"];

/**
 * Picks the run's processes out of the probe's listing: the members of the scope the probe
 * reported (the started tree: that process, its session and descendants; tmux: the panes'
 * sessions), then the trainer and its workers among them (see summarizeProcesses). The probe
 * script itself and its children are left out: their command lines may carry the pattern.
 */
export function selectRunProcesses(
  sections: ProcessSections,
  units: ProcUnits,
  options: { process: string; workerProcess: string },
): RunProcesses {
  const [scopeWord = "workdir", ...anchorWords] = sections.scope.trim().split(/\s+/);
  const declared = (SCOPES as readonly string[]).includes(scopeWord)
    ? (scopeWord as ProcessScope)
    : "workdir";
  const anchors = new Set(anchorWords.map(Number).filter((n) => Number.isInteger(n) && n > 1));
  const self = Number(sections.self.trim().split(/\s+/)[0]);
  const args = new Map<number, string>();
  for (const line of cmdlineMatchesToArgsLines(sections.args).split("\n")) {
    const at = line.indexOf(" ");
    if (at > 0) args.set(Number(line.slice(0, at)), line.slice(at + 1).trim());
  }
  const stats = parseProcStat(sections.ps, units).filter(
    (row) => row.pid !== self && row.ppid !== self,
  );
  const inWorkdir =
    sections.wd === undefined
      ? null
      : new Set(sections.wd.trim().split(/\s+/).filter(Boolean).map(Number));
  const workdirRows = stats.map((row) => ({
    ...row,
    // Only a process working in the workdir may be the trainer of the workdir's run.
    args: inWorkdir === null || inWorkdir.has(row.pid) ? (args.get(row.pid) ?? "") : "",
  }));
  let rows: ProcessRow[] = stats.map((row) => ({ ...row, args: args.get(row.pid) ?? "" }));
  let scope = declared;
  if (scope === "workdir") rows = workdirRows;
  if (scope === "started" || scope === "tmux") {
    const byPid = new Map(stats.map((row) => [row.pid, row]));
    const member = (pid: number): boolean => {
      let current = byPid.get(pid);
      for (let hops = 0; current && hops < 64; hops += 1) {
        if (anchors.has(current.pid) || anchors.has(current.session)) return true;
        current = byPid.get(current.ppid);
      }
      return false;
    };
    rows = rows.filter((row) => member(row.pid));
  }
  let summary = summarizeProcesses(rows, options);
  if (scope === "started" && !summary.alive) {
    // The start launched a wrapper that put the job elsewhere (a script that backgrounds it
    // in a session of its own): the workdir tells then.
    scope = "workdir";
    rows = workdirRows;
    summary = summarizeProcesses(rows, options);
  }
  const workerSet = new Set(summary.workerPids);
  const byPid = new Map(rows.map((row) => [row.pid, row]));
  const tree = summary.treePids.flatMap((pid): RunProcess[] => {
    const row = byPid.get(pid);
    if (!row) return [];
    return [
      {
        pid,
        ppid: row.ppid,
        role: workerSet.has(pid)
          ? "worker"
          : row.args.includes(options.process)
            ? "trainer"
            : "other",
        comm: row.comm,
        args: row.args,
        rssBytes: row.rssKiB * 1024,
      },
    ];
  });
  return { scope, summary, tree };
}

/** The SSH user's uid as the probe printed it (`self` section), or null. */
export function probeUid(self: string): number | null {
  const word = self.trim().split(/\s+/)[1];
  return word !== undefined && /^\d+$/.test(word) ? Number(word) : null;
}

/** One line per process for people: `pid 4100 trainer python3 train.py … (1.2 GiB)`. */
export function describeRunProcess(process: RunProcess): string {
  const args = process.args.length > 120 ? `${process.args.slice(0, 119)}…` : process.args;
  const mib = Math.round(process.rssBytes / 1024 / 1024);
  return `pid ${process.pid} ${process.role}: ${args || process.comm} (${mib} MiB)`;
}

/** What the scope means, for people. */
export function describeProcessScope(scope: ProcessScope): string {
  switch (scope) {
    case "systemd":
      return "the systemd unit's processes";
    case "tmux":
      return "the tmux session's processes";
    case "started":
      return "the process tree trainops started";
    case "workdir":
      return "this user's processes working in the run's workdir";
  }
}
