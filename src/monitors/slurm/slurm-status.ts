import { isSlurmEnded } from "../../model/slurm-job.ts";
import type { SlurmJobsRepo } from "../../store/slurm-jobs-repo.ts";

/** The `slurm` block of `trainops status --json` (a contract: fields are only ever added). */
export interface SlurmRunStatus {
  jobId: string;
  /** As Slurm spells it: PENDING, RUNNING, TIMEOUT, … */
  state: string;
  reason: string | null;
  nodes: string[];
  timeLimitSeconds: number | null;
  elapsedSeconds: number;
  /** Resubmits by trainops or by hand, plus Slurm's own requeues of the current job. */
  restarts: number;
  /** Seconds in the queue so far, while pending. */
  pendingSeconds: number | null;
  /** Seconds before the time limit, while running; null without a limit. */
  timeLeftSeconds: number | null;
  gpusPerNode: Record<string, number>;
  exitCode: number | null;
  /** Job ids across restarts, oldest first; the last is `jobId`. */
  jobIds: string[];
  /** When a poll last saw the job (ISO time). */
  seenAt: string;
}

/** The run's Slurm block from the store, or null when it has no job on record. */
export function readSlurmStatus(jobs: SlurmJobsRepo, run: string): SlurmRunStatus | null {
  const chain = jobs.chain(run);
  const current = chain.at(-1);
  if (!current) return null;
  const { job } = current;
  const running = job.state === "RUNNING";
  return {
    jobId: job.jobId,
    state: job.state,
    reason: job.reason,
    nodes: job.nodes,
    timeLimitSeconds: job.timeLimitSeconds,
    elapsedSeconds: job.elapsedSeconds,
    restarts: chain.length - 1 + job.restarts,
    pendingSeconds: job.state === "PENDING" ? job.pendingSeconds : null,
    timeLeftSeconds:
      running && job.timeLimitSeconds !== null
        ? Math.max(0, job.timeLimitSeconds - job.elapsedSeconds)
        : isSlurmEnded(job.state)
          ? 0
          : null,
    gpusPerNode: job.gpusPerNode,
    exitCode: job.exitCode,
    jobIds: chain.map((record) => record.job.jobId),
    seenAt: new Date(current.updatedAt).toISOString(),
  };
}
