import { formatClock } from "../../message/format.ts";
import { baseSettings, defineRule } from "./rule.ts";
import { aliveStreakFacts, lastAliveStreak, totalSteps } from "./run-facts.ts";

/** The process is gone after the last step, or was stopped on purpose (KeyboardInterrupt). */
export const finishedRule = defineRule({
  name: "finished",
  label: "finish",
  settings: baseSettings({ severity: "success", repeatInterval: "0s" }),
  quietResolve: true,
  facts: () => aliveStreakFacts,
  evaluate(ctx, _s, _open, facts) {
    const latest = ctx.latest();
    if (!latest?.reachable || latest.alive === null) return "unknown";
    if (latest.alive) return null;
    // A Slurm job's end is told by job_ended, with Slurm's own account of it.
    if (ctx.runConfig?.slurm) return null;
    const streak = lastAliveStreak(facts, ctx.now);
    const step = Math.max(streak?.maxStep ?? 0, latest.step ?? 0);
    const total = totalSteps(ctx.runConfig, latest);
    if (total !== null && step >= total) {
      return {
        headline: `finished: reached step ${step} of ${total}`,
        lines: [
          `Training reached its last step; the process exited${streak ? ` after ${formatClock(streak.last.at)}` : ""}.`,
          "Next: evaluate the final checkpoint; the VM can be stopped to save cost.",
        ],
      };
    }
    const interrupt = ctx.latestEvent(["interrupted"]);
    if (streak && interrupt && interrupt.at >= streak.start.at) {
      return {
        headline: `stopped by an interrupt at step ${step}${total ? ` of ${total}` : ""}`,
        severity: "info",
        lines: [
          "Someone interrupted training (KeyboardInterrupt); this is not a crash.",
          "Next: restart it when ready (`/train restart`).",
        ],
        quote: interrupt.line,
      };
    }
    return null;
  },
});
