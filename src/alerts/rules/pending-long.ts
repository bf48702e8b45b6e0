import { formatDuration } from "../../core/duration.ts";
import { baseSettings, defineRule, durationSetting } from "./rule.ts";
import { currentSlurmJob } from "./slurm-job-facts.ts";

/** The Slurm job has waited in the queue longer than `after` (default 1 h), with the reason. */
export const pendingLongRule = defineRule({
  name: "pending_long",
  label: "queue wait",
  settings: baseSettings({ severity: "info", repeatInterval: "6h" }).extend({
    after: durationSetting
      .prefault("1h")
      .describe("Alert once the job has waited in the queue this long"),
  }),
  evaluate(ctx, s) {
    const record = currentSlurmJob(ctx);
    if (record === "unknown") return "unknown";
    if (record?.job.state !== "PENDING") return null;
    const { job } = record;
    const waited = (job.pendingSeconds ?? 0) * 1000 + Math.max(0, ctx.now - record.updatedAt);
    if (waited < s.after) return null;
    return {
      headline: `Slurm job ${job.jobId} pending for ${formatDuration(waited)}${job.reason ? `: ${job.reason}` : ""}`,
      lines: [
        `Waiting in the queue${job.partition ? ` of partition ${job.partition}` : ""} for ${formatDuration(waited)}; Slurm's reason: ${job.reason ?? "none given"}.`,
        reasonAdvice(job.reason),
      ],
      ...(job.submittedAt !== null ? { since: job.submittedAt } : {}),
    };
  },
  resolved(ctx) {
    const record = ctx.slurmJob?.();
    return [
      record?.job.state === "RUNNING"
        ? `Slurm job ${record.job.jobId} started on ${record.job.nodes.join(", ")}.`
        : "The job no longer waits in the queue.",
    ];
  },
});

/** What a person can do about the common reasons. */
function reasonAdvice(reason: string | null): string {
  switch (reason) {
    case "Resources":
      return "Next: the nodes it asks for are busy; ask for fewer (`--nodes`, `--gres=gpu:N`) or a shorter `--time` to fit a backfill slot.";
    case "Priority":
      return "Next: other jobs go first; `sprio -j <id>` shows why. A shorter `--time` may let backfill start it sooner.";
    case "QOSMaxJobsPerUserLimit":
    case "AssocMaxJobsLimit":
      return "Next: you are at your job limit; it starts when one of your other jobs ends.";
    default:
      return "Next: `squeue -j <id> --start` shows Slurm's estimated start; `scontrol show job <id>` the details.";
  }
}
