import * as z from "zod";
import { formatClock } from "../../message/format.ts";
import { baseSettings, defineRule } from "./rule.ts";

/**
 * The VM answers but `polls` polls in a row missed a piece the monitor needs (the log, the
 * training config, nvidia-smi): progress, errors or GPU figures go unseen while it lasts.
 */
export const degradedRule = defineRule({
  name: "degraded",
  label: "incomplete monitoring",
  settings: baseSettings({ severity: "warning", repeatInterval: "6h" }).extend({
    polls: z
      .number()
      .int()
      .min(1)
      .default(3)
      .describe("Alert after this many polls in a row missed a piece"),
  }),
  evaluate(ctx, s) {
    const polls = ctx.recentPolls(s.polls);
    if (polls.length === 0) return "unknown";
    if (polls.length < s.polls || polls.some((p) => p.outcome !== "degraded")) return null;
    const since = (polls.at(-1) as (typeof polls)[number]).at;
    const newest = polls[0]?.message ?? "a piece is missing";
    return {
      headline: `monitoring incomplete for ${polls.length} polls`,
      lines: [
        `Since ${formatClock(since)}: ${newest}.`,
        `Next: fix the path (log, trainConfig, nvidiaSmi) in the run's config or on the VM, then check with \`trainops poll --once --run ${ctx.run}\`.`,
      ],
      since,
    };
  },
  resolved() {
    return ["Every piece is found again."];
  },
});
