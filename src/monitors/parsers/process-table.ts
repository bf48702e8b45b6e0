/** The training process and its data-loader workers, as one poll saw them. */
export interface ProcessTableSummary {
  alive: boolean;
  /** The root of the training process tree; rssBytes sums it and its non-worker descendants. */
  trainer: { pid: number; rssBytes: number; elapsedSeconds: number } | null;
  workers: { count: number; rssBytes: number };
}

interface ProcessRow {
  pid: number;
  ppid: number;
  rssKiB: number;
  elapsedSeconds: number;
  comm: string;
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
 * contain spaces); `argsText` holds lines `pid args`. The trainer is a process whose args
 * contain `process`. Workers are matched by comm only: PyTorch renames its DataLoader workers
 * with prctl, and their args are a copy of the parent's, so matching args would count every
 * worker as a trainer and `grep pt_data_worker` on args finds none.
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
  const byPid = new Map(rows.map((row) => [row.pid, row]));
  const isWorker = (row: ProcessRow) => row.comm === options.workerProcess;
  const matches = rows.filter(
    (row) => !isWorker(row) && !NOT_A_TRAINER.has(row.comm) && row.args.includes(options.process),
  );
  const matchSet = new Set(matches.map((row) => row.pid));
  // Roots: matching processes whose parent does not match. torchrun's ranks are several
  // sibling roots; the oldest stands for the run (its pid and elapsed time).
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
  const workerRows = rows.filter((row) => isWorker(row) && (!root || inTree(row)));
  const trainerRows = root ? matches.filter(inTree) : [];
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
  };
}
