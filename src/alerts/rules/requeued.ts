import { formatDuration } from "../../core/duration.ts";
import { baseSettings, defineRule, durationSetting } from "./rule.ts";
import { currentSlurmJob } from "./slurm-job-facts.ts";
import { stopExpected } from "./trainer-state.ts";

/**
 * Slurm requeued the job (node failure, preemption): it fires while the job waits again and for
 * `window` after it restarted, so a later requeue fires anew.
 */
export const requeuedRule = defineRule({
  name: "requeued",
  label: "requeue",
  settings: baseSettings({ severity: "warning", repeatInterval: "0s" }).extend({
    window: durationSetting
      .prefault("10m")
      .describe("The alert holds this long after the requeued job runs again"),
  }),
  quietResolve: true,
  evaluate(ctx, s) {
    const record = currentSlurmJob(ctx);
    if (record === "unknown") return "unknown";
    if (!record || record.job.restarts === 0 || record.cancelledByTrainops) return null;
    // A requeue trainops asked for (a restart with slurm.requeue) is no news.
    if (stopExpected(ctx)) return null;
    const { job } = record;
    const waiting = job.state === "PENDING" || job.state.startsWith("REQUEUE");
    const runningFor =
      job.state === "RUNNING" && job.startedAt !== null ? ctx.now - job.startedAt : null;
    if (!waiting && (runningFor === null || runningFor > s.window)) return null;
    return {
      headline: `Slurm job ${job.jobId} was requeued (${job.restarts} time${job.restarts === 1 ? "" : "s"})`,
      lines: [
        waiting
          ? `Slurm put it back in the queue${job.reason ? ` (${job.reason})` : ""}; it waits to start again.`
          : `It runs again on ${job.nodes.join(", ")} since ${formatDuration(runningFor ?? 0)}.`,
        "Next: check that it resumes from its last checkpoint (`/train logs`); steps since that checkpoint are lost.",
      ],
    };
  },
});
