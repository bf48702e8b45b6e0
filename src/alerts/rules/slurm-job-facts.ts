import type { SlurmJobRecord } from "../../model/slurm-job.ts";
import type { StoredEvent } from "../../store/events-repo.ts";
import type { RuleContext } from "./rule.ts";

/**
 * The run's current Slurm job when the run names one: "unknown" while the newest poll did not
 * reach the login node (keep the alert's state), null for runs that are not Slurm jobs.
 */
export function currentSlurmJob(ctx: RuleContext): SlurmJobRecord | null | "unknown" {
  if (!ctx.runConfig?.slurm || !ctx.slurmJob) return null;
  const latest = ctx.latest();
  if (latest && !latest.reachable) return "unknown";
  return ctx.slurmJob();
}

/** Seconds before the job's time limit at `now`, counting the time since it was last seen. */
export function secondsLeft(record: SlurmJobRecord, now: number): number | null {
  const { job } = record;
  if (job.timeLimitSeconds === null) return null;
  const sinceSeen = Math.max(0, (now - record.updatedAt) / 1000);
  return job.timeLimitSeconds - job.elapsedSeconds - sinceSeen;
}

/** "rank 1 on n2: " for an event from a multi-node log, "" otherwise. */
export function rankPrefix(event: Pick<StoredEvent, "detail">, nodes: string[]): string {
  const rank = event.detail?.rank;
  const node = event.detail?.node ?? (typeof rank === "number" ? nodes[rank] : undefined);
  if (rank === undefined && node === undefined) return "";
  return `${rank !== undefined ? `rank ${rank}` : ""}${rank !== undefined && node ? " on " : ""}${node ?? ""}: `;
}
