import { posix } from "node:path";
import type { RunConfig } from "../config/schema.ts";
import type { Clock } from "../core/clock.ts";
import { shellQuote } from "./shell-quote.ts";
import { TrainingConfigFile } from "./training-config-file.ts";
import type { Transport } from "./transport.ts";

/** Most bytes a log tail reads from the VM, whatever the line count (one huge line stays bounded). */
const MAX_TAIL_BYTES = 64 * 1024;

/** Where a run's files are on the VM, resolved once against its workdir. */
export interface RunPaths {
  workdir: string;
  /** The training log, absolute; "" for a Slurm run without `log:` (its job's StdOut is the log). */
  log: string;
  /** The training config (YAML), absolute; null when the run has none. */
  trainConfig: string | null;
  /** Where a detached start command's own output goes, for diagnosis. */
  startOutput: string;
}

/** Where the run's files are on the VM (relative config paths resolve against `workdir`). */
export function runPaths(run: RunConfig): RunPaths {
  const abs = (path: string) => (posix.isAbsolute(path) ? path : posix.join(run.workdir, path));
  return {
    workdir: run.workdir,
    log: run.log === undefined ? "" : abs(run.log),
    trainConfig: run.trainConfig ? abs(run.trainConfig) : null,
    startOutput: `/tmp/trainops-start-${run.name}.out`,
  };
}

/**
 * One RunRemote per run over `transportFor`'s transports, built on first use and kept (the
 * product's wiring, and tests that hand operations a transport).
 */
export function remotesOver(
  transportFor: (run: RunConfig) => Transport,
  clock: Clock,
): (run: RunConfig) => RunRemote {
  const remotes = new Map<string, RunRemote>();
  return (run) => {
    let remote = remotes.get(run.name);
    if (!remote) {
      remote = new RunRemote(run, transportFor(run), clock);
      remotes.set(run.name, remote);
    }
    return remote;
  };
}

/**
 * A run's remote side, built once per run over its transport: the paths, log reads and tails,
 * and the training config file. The monitor, the restart and `/train logs` use it rather than
 * rebuilding paths and shell snippets each. The run's own processes are listed by
 * monitors/run-process-list.ts (the probe and the restart share it).
 */
export class RunRemote {
  readonly paths: RunPaths;
  /** The training config on the VM; null when the run has no `trainConfig:`. */
  readonly trainingConfig: TrainingConfigFile | null;

  constructor(
    readonly run: RunConfig,
    readonly transport: Transport,
    clock: Clock,
  ) {
    this.paths = runPaths(run);
    this.trainingConfig = this.paths.trainConfig
      ? new TrainingConfigFile({ transport, path: this.paths.trainConfig, clock })
      : null;
  }

  /** The log's size in bytes (0 when it is missing). */
  async logSize(): Promise<number> {
    const result = await this.transport.run(
      `wc -c < ${shellQuote(this.paths.log)} 2>/dev/null || echo 0`,
    );
    return Number(result.stdout.toString("utf8").trim()) || 0;
  }

  /** At most `maxBytes` of the log from byte `offset` on. */
  async readLogFrom(offset: number, maxBytes: number): Promise<string> {
    const result = await this.transport.run(
      `tail -c +${Math.max(0, Math.trunc(offset)) + 1} -- ${shellQuote(this.paths.log)} 2>/dev/null | head -c ${Math.trunc(maxBytes)}`,
    );
    return result.stdout.toString("utf8");
  }

  /**
   * The log's last `lines` lines (1 to 10 000, at most 64 KiB). The path comes from the config
   * and is quoted, and `lines` is an integer: nothing a person typed reaches the shell.
   */
  async tailLog(lines: number): Promise<string> {
    const count = Math.max(1, Math.min(10_000, Math.trunc(lines)));
    const path = this.paths.log;
    const result = await this.transport.run(
      `if [ -r ${shellQuote(path)} ]; then tail -n ${count} -- ${shellQuote(path)} | tail -c ${MAX_TAIL_BYTES}; else echo "cannot read ${path.replace(/[^\w./-]/g, "?")}" >&2; exit 3; fi`,
    );
    if (result.code !== 0)
      throw new Error(result.stderr.trim() || `tail exited with ${result.code}`);
    return result.stdout.toString("utf8");
  }

  /** The last lines a detached start command printed. */
  async startOutputTail(lines = 5): Promise<string[]> {
    const result = await this.transport.run(
      `tail -n ${Math.trunc(lines)} -- ${shellQuote(this.paths.startOutput)} 2>/dev/null`,
    );
    return result.stdout
      .toString("utf8")
      .split("\n")
      .filter((l) => l.trim() !== "");
  }
}
