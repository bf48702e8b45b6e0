import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync, readlinkSync, renameSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WORKER_MEMORY_ENV, WORKER_ROLE_ENV } from "./data-worker-main.ts";

/** The process name PyTorch gives its DataLoader workers (through prctl, i.e. `comm`). */
export const WORKER_COMM = "pt_data_worker";

/** Called when a worker dies while the trainer still needs it. */
export type WorkerDeathHandler = (pid: number, signal: NodeJS.Signals | null) => void;

/**
 * The trainer's data-loader workers: real child processes named `pt_data_worker` in `comm`
 * with the trainer's own command line in `args`, as PyTorch's forked workers look in `ps`.
 *
 * Linux takes `comm` from the executable's file name, so each worker is node started through
 * a symlink called `pt_data_worker`, given the trainer's argv (argv[0] included, through
 * spawn's `argv0`) plus an environment variable that selects the worker role.
 */
export class DataWorkerPool {
  private children: ChildProcess[] = [];
  private stopping = false;

  constructor(
    private readonly options: {
      count: number;
      memoryMiB: number;
      onDeath: WorkerDeathHandler;
    },
  ) {}

  /** Starts `count` workers (again, after stop(), for non-persistent workers). */
  start(): void {
    this.stopping = false;
    const [argv0, ...args] = ownCommandLine();
    const executable = workerExecutable();
    for (let i = 0; i < this.options.count; i++) {
      const child = spawn(executable, args, {
        argv0,
        stdio: ["pipe", "ignore", "ignore"],
        env: {
          ...process.env,
          [WORKER_ROLE_ENV]: "worker",
          [WORKER_MEMORY_ENV]: String(this.options.memoryMiB),
        },
      });
      child.stdin?.on("error", () => {});
      child.on("exit", (_code, signal) => {
        this.children = this.children.filter((c) => c !== child);
        if (!this.stopping && child.pid !== undefined) this.options.onDeath(child.pid, signal);
      });
      this.children.push(child);
    }
  }

  pids(): number[] {
    return this.children.flatMap((c) => (c.pid === undefined ? [] : [c.pid]));
  }

  /** Sends a signal to one worker (the simulated OOM killer uses SIGKILL). */
  kill(pid: number, signal: NodeJS.Signals): void {
    this.children.find((c) => c.pid === pid)?.kill(signal);
  }

  /** Ends every worker and waits until they are gone. */
  async stop(): Promise<void> {
    this.stopping = true;
    const exits = this.children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) resolve();
          else child.once("exit", () => resolve());
        }),
    );
    for (const child of this.children) {
      child.stdin?.end();
      child.kill("SIGTERM");
    }
    await Promise.all(exits);
    this.children = [];
  }
}

/** argv exactly as the kernel shows it for this process. */
function ownCommandLine(): string[] {
  try {
    const parts = readFileSync("/proc/self/cmdline", "utf8").split("\0");
    if (parts.at(-1) === "") parts.pop();
    if (parts.length > 0) return parts;
  } catch {
    // No /proc (not Linux): fall back to what node knows; comm naming will not hold anyway.
  }
  return [process.argv0, ...process.execArgv, ...process.argv.slice(1)];
}

/** A `pt_data_worker` symlink to this node binary, created once per user and binary. */
function workerExecutable(): string {
  const uid = process.getuid?.() ?? 0;
  const dir = join(tmpdir(), `trainops-sim-${uid}`, hash(process.execPath));
  const link = join(dir, WORKER_COMM);
  try {
    if (readlinkSync(link) === process.execPath) return link;
  } catch {
    // Not there yet.
  }
  mkdirSync(dir, { recursive: true });
  const temporary = `${link}.${process.pid}`;
  symlinkSync(process.execPath, temporary);
  // rename() replaces atomically, so concurrent simulators never see a missing link.
  renameSync(temporary, link);
  return link;
}

function hash(text: string): string {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h >>> 0).toString(16);
}
