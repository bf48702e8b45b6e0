import * as z from "zod";
import { formatCount } from "../../message/format.ts";
import type { RunSample } from "../../model/monitoring.ts";
import { baseSettings, defineRule, durationSetting } from "./rule.ts";

/**
 * The best loss has not improved by `minDelta` over the last `steps` steps: training has stopped
 * learning (a learning rate decayed to nothing, a saturated model, a data loader serving the
 * same batches). Off by default: many schedules plateau on purpose for a while.
 */
export const lossPlateauRule = defineRule({
  name: "loss_plateau",
  label: "loss plateau",
  settings: baseSettings({ severity: "warning", repeatInterval: "12h" }).extend({
    enabled: z.boolean().default(false).describe("Off by default; turn it on with true"),
    /** Steps without a new best loss that fire. */
    steps: z
      .number()
      .int()
      .min(10)
      .default(2000)
      .describe("Steps without a new best loss that fire; default 2000"),
    /** How much lower than the previous best a loss must be to count as an improvement. */
    minDelta: z
      .number()
      .min(0)
      .default(0.001)
      .describe("How much lower than the previous best a loss must be to count; default 0.001"),
    /** How far back samples are read to find the best loss and the steps before it. */
    lookback: durationSetting
      .prefault("24h")
      .describe("How far back the loss is read; default 24h"),
  }),
  evaluate(ctx, s) {
    const latest = ctx.latest();
    if (!latest?.reachable) return "unknown";
    const points = sinceLastRestart(
      ctx
        .samplesSince(ctx.now - Math.max(s.lookback, 0))
        .filter(
          (p) =>
            p.reachable && p.step !== null && p.loss !== null && Number.isFinite(p.loss as number),
        ),
    );
    const last = points.at(-1);
    if (!last || last.step === null) return "unknown";
    const cut = last.step - s.steps;
    const before = points.filter((p) => (p.step as number) <= cut);
    const recent = points.filter((p) => (p.step as number) > cut);
    // The window must reach back a full `steps` before its last point, or nothing is judged.
    if (before.length === 0 || recent.length === 0) return "unknown";
    const bestBefore = Math.min(...before.map((p) => p.loss as number));
    const bestRecent = Math.min(...recent.map((p) => p.loss as number));
    if (bestRecent < bestBefore - s.minDelta) return null;
    const bestAt = before.find((p) => p.loss === bestBefore) as RunSample;
    const stepsWithout = (last.step as number) - (bestAt.step as number);
    return {
      headline: `loss plateau: no new best in ${formatCount(stepsWithout)} steps (best ${fmt(bestBefore)})`,
      lines: [
        `The best loss is ${fmt(bestBefore)} at step ${formatCount(bestAt.step as number)}; the ${formatCount(s.steps)} steps since reached ${fmt(bestRecent)} at best (an improvement needs at least ${s.minDelta} lower).`,
        "Training may have stopped learning: a learning rate decayed to nothing, or the data repeating.",
        "Next: `/train chart loss`; if the plan allows, move on (`/train next-phase`) or stop early to save GPU time.",
      ],
    };
  },
  resolved(ctx) {
    const loss = ctx.latestReachable()?.loss ?? null;
    return [
      loss !== null ? `The loss improves again (now ${fmt(loss)}).` : "The loss improves again.",
    ];
  },
});

/** Samples after the step counter last went back (a resume from a checkpoint starts over). */
function sinceLastRestart(points: RunSample[]): RunSample[] {
  let from = 0;
  for (let i = 1; i < points.length; i++) {
    if ((points[i]?.step as number) < (points[i - 1]?.step as number)) from = i;
  }
  return points.slice(from);
}

function fmt(loss: number): string {
  return loss >= 100 ? loss.toFixed(0) : loss >= 1 ? loss.toFixed(3) : loss.toPrecision(3);
}
