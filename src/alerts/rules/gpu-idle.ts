import * as z from "zod";
import { formatDuration } from "../../core/duration.ts";
import { formatGiB, formatSeconds } from "../../message/format.ts";
import { baseSettings, defineRule } from "./rule.ts";
import { gpuUtilization } from "./run-facts.ts";

/**
 * GPU utilisation under `belowPercent` for `for:` while training runs: the GPU waits for
 * data, so the data loader is the bottleneck (the plan's "0% (waiting for data)").
 */
export const gpuIdleRule = defineRule({
  name: "gpu_idle",
  label: "idle GPU",
  settings: baseSettings({ severity: "warning", for: "10m", repeatInterval: "2h" }).extend({
    belowPercent: z
      .number()
      .min(0)
      .max(100)
      .default(10)
      .describe("Idle means GPU utilisation under this, percent"),
  }),
  evaluate(ctx, s, open) {
    const latest = ctx.latest();
    if (!latest?.reachable || latest.alive === null) return "unknown";
    if (!latest.alive) return null;
    const util = gpuUtilization(latest);
    if (util === null) return "unknown";
    if (util >= s.belowPercent) return null;
    const idleFor = ctx.now - (open?.startedAt ?? ctx.now);
    const lines = [
      `Training runs but the GPU is ${Math.round(util)}% busy (under ${s.belowPercent}%): it waits for data, so the data loader is the bottleneck.`,
    ];
    const workers = latest.workers;
    const facts: string[] = [];
    if (workers) facts.push(`${workers.count} data-loader worker${workers.count === 1 ? "" : "s"}`);
    if (workers && workers.count > 0)
      facts.push(`about ${formatGiB(workers.rssBytes / workers.count)} RAM each`);
    if (latest.stepTimeSeconds !== null)
      facts.push(`step time ${formatSeconds(latest.stepTimeSeconds)}`);
    if (facts.length) lines.push(`Now: ${facts.join(", ")}.`);
    const more =
      workers && workers.count > 0 ? `, e.g. ${workers.count} → ${workers.count * 2}` : "";
    lines.push(
      `Next: more data-loader workers (\`training.workers\`${more}), as the plan's next phase does; watch host RAM as workers are added.`,
    );
    return {
      headline: `GPU idle (${Math.round(util)}% utilisation)${idleFor > 0 ? ` for ${formatDuration(idleFor)}` : ""}`,
      lines,
    };
  },
  resolved(ctx) {
    const sample = ctx.latestReachable();
    const util = sample ? gpuUtilization(sample) : null;
    return [
      util !== null ? `GPU utilisation is back to ${Math.round(util)}%.` : "The GPU is busy again.",
    ];
  },
});
