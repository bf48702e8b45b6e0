import * as z from "zod";
import { formatCount } from "../../message/format.ts";
import { baseSettings, defineRule, durationSetting } from "./rule.ts";
import { keepSmaller, SampleSeries } from "./sample-series.ts";

/** A reading of the loss at a step. */
interface LossPoint {
  at: number;
  step: number;
  loss: number;
}

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
  // Step and loss of the readings since the step counter last went back (a resume from a
  // checkpoint starts over); a long stretch keeps the lower loss of neighbours, so the best stays.
  facts: (s) => ({
    span: s.lookback,
    init: () => new SampleSeries(s.lookback, 2, keepSmaller(1)),
    add(series: SampleSeries, p) {
      if (!p.reachable || p.step === null || p.loss === null || !Number.isFinite(p.loss)) return;
      const last = series.newest();
      if (last && p.step < (last.values[0] as number)) series.clear();
      series.push(p.at, [p.step, p.loss]);
    },
    copy: (series: SampleSeries) => series.copy(),
  }),
  evaluate(ctx, s, _open, facts) {
    const latest = ctx.latest();
    if (!latest?.reachable) return "unknown";
    const points: LossPoint[] = facts
      .since(ctx.now - Math.max(s.lookback, 0))
      .map((p) => ({ at: p.at, step: p.values[0] as number, loss: p.values[1] as number }));
    const last = points.at(-1);
    if (!last) return "unknown";
    const cut = last.step - s.steps;
    const before = points.filter((p) => p.step <= cut);
    const recent = points.filter((p) => p.step > cut);
    // The window must reach back a full `steps` before its last point, or nothing is judged.
    if (before.length === 0 || recent.length === 0) return "unknown";
    const bestBefore = Math.min(...before.map((p) => p.loss));
    const bestRecent = Math.min(...recent.map((p) => p.loss));
    if (bestRecent < bestBefore - s.minDelta) return null;
    const bestAt = before.find((p) => p.loss === bestBefore) as LossPoint;
    const stepsWithout = last.step - bestAt.step;
    return {
      headline: `loss plateau: no new best in ${formatCount(stepsWithout)} steps (best ${fmt(bestBefore)})`,
      lines: [
        `The best loss is ${fmt(bestBefore)} at step ${formatCount(bestAt.step)}; the ${formatCount(s.steps)} steps since reached ${fmt(bestRecent)} at best (an improvement needs at least ${s.minDelta} lower).`,
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

function fmt(loss: number): string {
  return loss >= 100 ? loss.toFixed(0) : loss >= 1 ? loss.toFixed(3) : loss.toPrecision(3);
}
