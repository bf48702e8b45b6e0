/**
 * A Slurm job as the monitor last saw it. States are spelled as Slurm spells them (`PENDING`,
 * `RUNNING`, `TIMEOUT`, …): people paste them into `squeue -t` and search for them.
 */
export interface SlurmJob {
  /** `123`, or `123_4` for an array task. */
  jobId: string;
  name: string;
  user: string | null;
  state: string;
  /** Why it waits or ended (`Resources`, `Priority`, `NonZeroExitCode`); null for `None`. */
  reason: string | null;
  /** Allocated nodes, expanded (`n[1-2]` → n1, n2); empty while pending. */
  nodes: string[];
  /** GPUs allocated on each node, where Slurm says. */
  gpusPerNode: Record<string, number>;
  /** null when the partition has no limit (UNLIMITED). */
  timeLimitSeconds: number | null;
  elapsedSeconds: number;
  /** Seconds since submission while pending; null once it started. */
  pendingSeconds: number | null;
  /** The batch script's exit code and the signal that ended it, from `ExitCode=code:signal`. */
  exitCode: number | null;
  exitSignal: number | null;
  /** How often Slurm requeued this job (`Restarts=`). */
  restarts: number;
  stdOut: string | null;
  command: string | null;
  workDir: string | null;
  partition: string | null;
  /** Epoch ms on the monitor's clock (Slurm prints login-node local time; converted). */
  submittedAt: number | null;
  startedAt: number | null;
  endedAt: number | null;
  /** Who cancelled it, when accounting says (`CANCELLED by 1000`). */
  cancelledBy: string | null;
}

/** States after which the job runs no more (requeues come back as PENDING). */
export const SLURM_ENDED_STATES: readonly string[] = [
  "COMPLETED",
  "FAILED",
  "TIMEOUT",
  "CANCELLED",
  "OUT_OF_MEMORY",
  "NODE_FAIL",
  "PREEMPTED",
  "BOOT_FAIL",
  "DEADLINE",
];

/** Whether a Slurm state is final. */
export function isSlurmEnded(state: string): boolean {
  return SLURM_ENDED_STATES.includes(state);
}

/** A job as stored for a run, with what trainops did to it. */
export interface SlurmJobRecord {
  run: string;
  job: SlurmJob;
  /** When the monitor first saw this job id (or trainops submitted it), epoch ms. */
  seenAt: number;
  /** When the last poll saw it. */
  updatedAt: number;
  /** The job this one replaced (a resubmit), if known. */
  previousJobId: string | null;
  /** trainops submitted or requeued it. */
  submittedByTrainops: boolean;
  /** trainops cancelled it (a restart): its end is no failure. */
  cancelledByTrainops: boolean;
}
