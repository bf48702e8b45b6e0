import { formatDuration } from "../../core/duration.ts";
import { formatClock } from "../../message/format.ts";
import { baseSettings, defineRule, durationSetting } from "./rule.ts";
import { currentSlurmJob, secondsLeft } from "./slurm-job-facts.ts";

/** The Slurm job will reach its time limit within `margin` (default 30 min). */
export const timeLimitRule = defineRule({
  name: "time_limit",
  label: "time limit warning",
  settings: baseSettings({ severity: "warning", repeatInterval: "0s" }).extend({
    margin: durationSetting
      .prefault("30m")
      .describe("Warn when the job is this close to its time limit"),
  }),
  // The job ending (job_ended) or being extended ends the warning; neither needs a second note.
  quietResolve: true,
  evaluate(ctx, s) {
    const record = currentSlurmJob(ctx);
    if (record === "unknown") return "unknown";
    if (record?.job.state !== "RUNNING") return null;
    const left = secondsLeft(record, ctx.now);
    if (left === null || left * 1000 > s.margin) return null;
    const { job } = record;
    const limit = formatDuration((job.timeLimitSeconds ?? 0) * 1000);
    const endsAt = ctx.now + Math.max(0, left) * 1000;
    const extended = formatSlurmTime((job.timeLimitSeconds ?? 0) + 3600);
    return {
      headline: `Slurm job ${job.jobId} hits its time limit in ${formatDuration(Math.max(0, left) * 1000)}`,
      lines: [
        `The job has run ${formatDuration(job.elapsedSeconds * 1000)} of its ${limit} limit; Slurm stops it at about ${formatClock(endsAt)}.`,
        `Next: save a checkpoint now, or extend it: \`scontrol update JobId=${job.jobId} TimeLimit=${extended}\` (an administrator may have to).`,
      ],
    };
  },
});

/** Seconds as Slurm's `D-HH:MM:SS` / `HH:MM:SS`. */
function formatSlurmTime(seconds: number): string {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  const hms = [h, m, s].map((v) => String(v).padStart(2, "0")).join(":");
  return d > 0 ? `${d}-${hms}` : hms;
}
