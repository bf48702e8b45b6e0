/** How the data-loader workers were told apart from the trainer. */
export type WorkerMatch =
  /** By `comm`: PyTorch 2.x renames its workers (`pt_data_worker`). */
  | "comm"
  /** As the trainer's forked children with its exact command line (PyTorch 1.x keeps `python3`). */
  | "forked";

/** The training process and its data-loader workers, as one poll saw them. */
export interface ProcessTableSummary {
  alive: boolean;
  /** The root of the training process tree; rssBytes sums it and its non-worker descendants. */
  trainer: { pid: number; rssBytes: number; elapsedSeconds: number } | null;
  workers: { count: number; rssBytes: number };
  /** How the workers were found; null when there were none. */
  workersFoundBy: WorkerMatch | null;
  /** The workers' pids. */
  workerPids: number[];
  /** Every process of the training tree (roots, ranks, workers), oldest first: what a stop signals. */
  treePids: number[];
}

/** One process of the listing. */
export interface ProcessRow {
  pid: number;
  ppid: number;
  rssKiB: number;
  elapsedSeconds: number;
  comm: string;
  /** The command line, space-separated; "" when the listing has none for this process. */
  args: string;
}

/** Programs that may name the training script in their command line without being it. */
const NOT_A_TRAINER = new Set([
  "grep",
  "egrep",
  "pgrep",
  "ps",
  "vi",
  "vim",
  "nvim",
  "nano",
  "emacs",
  "less",
  "more",
  "tail",
  "head",
  "cat",
  "watch",
  "top",
  "htop",
]);

/**
 * Finds the training run in the probe's process listing.
 *
 * `psText` holds lines `pid ppid rss_kib etimes comm` (comm is the rest of the line and may
 * contain spaces); `argsText` holds lines `pid args`. See {@link summarizeProcesses}.
 */
export function parseProcessTable(
  psText: string,
  argsText: string,
  options: { process: string; workerProcess: string },
): ProcessTableSummary {
  const args = new Map<number, string>();
  for (const line of argsText.split("\n")) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (m) args.set(Number(m[1]), (m[2] as string).trim());
  }
  const rows: ProcessRow[] = [];
  for (const line of psText.split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(.+?)\s*$/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    rows.push({
      pid,
      ppid: Number(m[2]),
      rssKiB: Number(m[3]),
      elapsedSeconds: Number(m[4]),
      comm: m[5] as string,
      args: args.get(pid) ?? "",
    });
  }
  return summarizeProcesses(rows, options);
}

/**
 * Finds the trainer and its workers among processes. The trainer is a process whose args
 * contain `process`. A worker is either renamed (`comm` is `workerProcess`: PyTorch 2.x names
 * its DataLoader workers with prctl), or a child of a training process with the same `comm` and
 * the very same command line (a fork: PyTorch 1.x leaves both as `python3 train.py …`). torchrun's
 * rank processes also match `process`, but their command line differs from their parent's
 * (`torchrun … train.py` starts `python -u train.py …`), so they stay training processes.
 */
export function summarizeProcesses(
  rows: readonly ProcessRow[],
  options: { process: string; workerProcess: string },
): ProcessTableSummary {
  const byPid = new Map(rows.map((row) => [row.pid, row]));
  const renamed = (row: ProcessRow) => row.comm === options.workerProcess;
  const matchesPattern = (row: ProcessRow) =>
    !renamed(row) && !NOT_A_TRAINER.has(row.comm) && row.args.includes(options.process);
  const forked = (row: ProcessRow) => {
    const parent = byPid.get(row.ppid);
    return (
      parent !== undefined &&
      row.args !== "" &&
      parent.args === row.args &&
      parent.comm === row.comm &&
      matchesPattern(parent)
    );
  };
  const matches = rows.filter((row) => matchesPattern(row) && !forked(row));
  const matchSet = new Set(matches.map((row) => row.pid));
  // Roots: matching processes whose parent does not match. torchrun's ranks are several
  // sibling roots when torchrun itself is not matched; the oldest stands for the run.
  const roots = matches.filter((row) => !matchSet.has(row.ppid));
  const rootPids = new Set(roots.map((row) => row.pid));
  const root = [...roots].sort((a, b) => b.elapsedSeconds - a.elapsedSeconds || a.pid - b.pid)[0];

  const inTree = (row: ProcessRow): boolean => {
    let current: ProcessRow | undefined = row;
    for (let hops = 0; current && hops < 64; hops += 1) {
      if (rootPids.has(current.pid)) return true;
      current = byPid.get(current.ppid);
    }
    return false;
  };
  const byComm = rows.filter((row) => renamed(row) && (!root || inTree(row)));
  const byFork = root ? rows.filter((row) => forked(row) && inTree(row)) : [];
  const workerRows = byComm.length > 0 ? [...byComm, ...byFork] : byFork;
  const trainerRows = root ? matches.filter(inTree) : [];
  const tree = root ? rows.filter(inTree) : [];
  return {
    alive: root !== undefined,
    trainer: root
      ? {
          pid: root.pid,
          rssBytes: trainerRows.reduce((sum, row) => sum + row.rssKiB, 0) * 1024,
          elapsedSeconds: root.elapsedSeconds,
        }
      : null,
    workers: {
      count: workerRows.length,
      rssBytes: workerRows.reduce((sum, row) => sum + row.rssKiB, 0) * 1024,
    },
    workersFoundBy: byComm.length > 0 ? "comm" : byFork.length > 0 ? "forked" : null,
    workerPids: workerRows.map((row) => row.pid),
    treePids: [...tree]
      .sort((a, b) => b.elapsedSeconds - a.elapsedSeconds || a.pid - b.pid)
      .map((row) => row.pid),
  };
}
