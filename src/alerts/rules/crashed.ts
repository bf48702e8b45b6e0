import * as z from "zod";
import { formatClock } from "../../message/format.ts";
import { ERROR_KINDS } from "../../model/monitoring.ts";
import { baseSettings, defineRule } from "./rule.ts";
import { aliveStreakFacts, lastAliveStreak, totalSteps } from "./run-facts.ts";
import { stopExpected } from "./trainer-state.ts";

/**
 * The training process is gone before the last step. A death within the first `minSteps` steps
 * of a start nobody asked for is "failed to start": a broken launch, not a training crash.
 * While the operations side expects a stop (a requested restart), nothing fires.
 */
export const crashedRule = defineRule({
  name: "crashed",
  label: "crash",
  settings: baseSettings({ severity: "critical", repeatInterval: "2h" }).extend({
    minSteps: z
      .number()
      .int()
      .min(0)
      .default(20)
      .describe(
        "Only a run that made at least this many steps counts as crashed (not failed to start)",
      ),
  }),
  facts: () => aliveStreakFacts,
  evaluate(ctx, s, _open, facts) {
    const latest = ctx.latest();
    if (!latest?.reachable || latest.alive === null) return "unknown";
    if (latest.alive) return null;
    // A Slurm job's end is told by job_ended, with Slurm's own account of it.
    if (ctx.runConfig?.slurm) return null;
    if (stopExpected(ctx)) return null;
    const streak = lastAliveStreak(facts, ctx.now);
    if (!streak) return null;
    const step = Math.max(streak.maxStep ?? 0, latest.step ?? 0);
    const total = totalSteps(ctx.runConfig, latest);
    if (total !== null && step >= total) return null;
    const lastEvent = ctx.latestEvent(ERROR_KINDS);
    const event = lastEvent && lastEvent.at >= streak.start.at ? lastEvent : null;
    if (event?.kind === "interrupted") return null;
    const diedAt = streak.diedAt ?? latest.at;
    const stepsRun = streak.startObserved ? step - (streak.start.step ?? 0) : step;
    const expected = ctx.expectedStop();
    const asked = expected !== null && expected.notedAt <= streak.start.at;
    const failedToStart = !asked && stepsRun < s.minSteps;
    const process = ctx.runConfig?.process ?? "the trainer";
    const lines = [
      `The training process (\`${process}\`) is gone since ${formatClock(diedAt)}; last seen alive at ${formatClock(streak.last.at)}, step ${step}${total ? ` of ${total}` : ""}.`,
      event
        ? `Last error in the log: ${event.kind.replace(/_/g, " ")} (quoted below).`
        : "No traceback in the log: it was killed (SIGKILL, host OOM) or exited without one.",
      failedToStart
        ? "Next: check the start command and the first lines of the log (`/train logs`); it died before training settled."
        : "Next: fix the cause above, then restart from the last checkpoint (`/train restart`).",
    ];
    return {
      headline: failedToStart
        ? `failed to start: the process died after ${stepsRun} step${stepsRun === 1 ? "" : "s"}`
        : `crashed at step ${step}${total ? ` of ${total}` : ""}`,
      lines,
      ...(event ? { quote: event.line } : {}),
      since: diedAt,
    };
  },
  resolved(ctx) {
    const step = ctx.latestReachable()?.step;
    return [
      `The training process is running again${step !== null && step !== undefined ? ` (step ${step})` : ""}.`,
    ];
  },
});
