import { formatDuration } from "../../core/duration.ts";
import type { Severity } from "../../message/message.ts";
import { FAILURE_KINDS } from "../../model/monitoring.ts";
import { isSlurmEnded, type SlurmJob } from "../../model/slurm-job.ts";
import { baseSettings, defineRule, type Finding } from "./rule.ts";
import { currentSlurmJob, rankPrefix } from "./slurm-job-facts.ts";

/** How long after a failed job's end its alert waits for the log's last error line. */
const LAST_LINES_GRACE_MS = 10_000;

/**
 * The Slurm job ended: COMPLETED, FAILED, TIMEOUT, CANCELLED, OUT_OF_MEMORY, NODE_FAIL,
 * PREEMPTED… each told apart and worded for a person. A job trainops cancelled itself (a
 * restart or a phase change resubmits it) is no news.
 */
export const jobEndedRule = defineRule({
  name: "job_ended",
  label: "job end",
  settings: baseSettings({ severity: "critical", repeatInterval: "0s" }),
  quietResolve: true,
  evaluate(ctx) {
    const record = currentSlurmJob(ctx);
    if (record === "unknown") return "unknown";
    if (!record || !isSlurmEnded(record.job.state) || record.cancelledByTrainops) return null;
    const { job } = record;
    const since = job.startedAt ?? record.seenAt;
    const event = ctx.latestEvent(FAILURE_KINDS);
    const lastError = event && event.at >= since ? event : null;
    // A failed job's last lines (the failing rank's traceback) can land in the log just after
    // Slurm marks it ended, or arrive in a read that was torn and is redone next poll: wait a
    // few seconds for them before telling it without its cause.
    const sinceEnd = job.endedAt !== null ? ctx.now - job.endedAt : null;
    if (!lastError && job.state === "FAILED" && sinceEnd !== null && sinceEnd >= 0) {
      if (sinceEnd < LAST_LINES_GRACE_MS) return null;
    }
    const described = describe(job);
    const ran = job.nodes.length
      ? `after ${formatDuration(job.elapsedSeconds * 1000)} on ${job.nodes.join(", ")}`
      : "before it started";
    const lines = [`${described.what} ${ran}.`];
    if (lastError) {
      lines.push(
        `Last error in the log: ${rankPrefix(lastError, job.nodes)}${lastError.kind.replace(/_/g, " ")} (quoted below).`,
      );
    }
    lines.push(described.next);
    const finding: Finding = {
      headline: `Slurm job ${job.jobId} ${described.headline}`,
      lines,
      severity: described.severity,
      ...(job.endedAt !== null ? { since: job.endedAt } : {}),
    };
    if (lastError && job.state !== "COMPLETED") {
      finding.quote = `${rankPrefix(lastError, job.nodes)}${lastError.line}`;
    }
    return finding;
  },
});

interface Description {
  headline: string;
  what: string;
  next: string;
  severity: Severity;
}

function describe(job: SlurmJob): Description {
  const limit = job.timeLimitSeconds !== null ? formatDuration(job.timeLimitSeconds * 1000) : "its";
  switch (job.state) {
    case "COMPLETED":
      return {
        headline: "completed",
        what: "The job finished with exit code 0",
        next: "Next: evaluate the final checkpoint.",
        severity: "success",
      };
    case "FAILED":
      return {
        headline: `failed with exit code ${job.exitCode ?? "?"}`,
        what: `The batch script exited with code ${job.exitCode ?? "?"}${job.exitSignal ? ` (signal ${job.exitSignal})` : ""}`,
        next: "Next: fix the cause, then `/train restart` resubmits it from the last checkpoint.",
        severity: "critical",
      };
    case "TIMEOUT":
      return {
        headline: `hit its time limit (${limit})`,
        what: `Slurm stopped the job at its ${limit} time limit`,
        next: "Next: `/train restart` resubmits it to resume from the last checkpoint; ask for a longer `--time` if the partition allows.",
        severity: "critical",
      };
    case "CANCELLED":
      return {
        headline: `was cancelled${job.cancelledBy ? ` by ${job.cancelledBy}` : ""}`,
        what: `Someone cancelled the job${job.cancelledBy ? ` (${job.cancelledBy})` : ""} (scancel), not trainops`,
        next: "Next: if that was not meant, `/train restart` resubmits it.",
        severity: "warning",
      };
    case "OUT_OF_MEMORY":
      return {
        headline: "ran out of memory",
        what: "Slurm killed the job for exceeding its memory allocation (host RAM, not GPU)",
        next: "Next: ask for more memory (`--mem`) or lower data-loader workers, then `/train restart`.",
        severity: "critical",
      };
    case "NODE_FAIL":
      return {
        headline: "was lost to a node failure",
        what: `Slurm lost contact with a node of the job${job.reason ? ` (${job.reason})` : ""}`,
        next: "Next: Slurm requeues it if the job allows; otherwise `/train restart` resubmits it on healthy nodes.",
        severity: "critical",
      };
    case "PREEMPTED":
      return {
        headline: "was preempted",
        what: "A higher-priority job took its nodes",
        next: "Next: it is requeued where the partition does so; otherwise `/train restart` resubmits it.",
        severity: "warning",
      };
    default:
      return {
        headline: `ended: ${job.state}`,
        what: `Slurm ended the job with state ${job.state}${job.reason ? ` (${job.reason})` : ""}`,
        next: "Next: `scontrol show job` (or `sacct`) has the details; `/train restart` resubmits it.",
        severity: "critical",
      };
  }
}
