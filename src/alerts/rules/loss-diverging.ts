import * as z from "zod";
import { formatDuration } from "../../core/duration.ts";
import { median } from "../../core/statistics.ts";
import { baseSettings, defineRule, durationSetting } from "./rule.ts";
import { SampleSeries } from "./sample-series.ts";

/**
 * The training loss rising over a window by more than `factor` (the median of the window's
 * last third against its first third, so one noisy batch does not fire it), or an infinite
 * loss. A learning rate too high for a new batch size, or broken data, look like this long
 * before anything crashes.
 */
export const lossDivergingRule = defineRule({
  name: "loss_diverging",
  label: "diverging loss",
  settings: baseSettings({ severity: "warning", repeatInterval: "2h" }).extend({
    /** How far back the loss is compared. */
    window: durationSetting
      .prefault("30m")
      .describe("How far back the loss is compared; default 30m"),
    /** Rise of the recent loss over the earlier one that fires, e.g. 2 = doubled. */
    factor: z
      .number()
      .gt(1)
      .default(2)
      .describe("Rise of the recent loss over the earlier one that fires; default 2 (doubled)"),
    /** Loss readings the window needs before it is judged. */
    minPoints: z
      .number()
      .int()
      .min(3)
      .default(6)
      .describe("Loss readings the window needs before it is judged; default 6"),
  }),
  // The loss readings over `window`.
  facts: (s) => ({
    span: s.window,
    init: () => new SampleSeries(s.window),
    add(series: SampleSeries, x) {
      if (x.loss !== null) series.push(x.at, [x.loss]);
    },
    copy: (series: SampleSeries) => series.copy(),
  }),
  evaluate(ctx, s, _open, facts) {
    const latest = ctx.latest();
    if (!latest?.reachable) return "unknown";
    const points = facts.since(ctx.now - s.window).map((p) => p.values[0] as number);
    const last = points.at(-1);
    if (
      last !== undefined &&
      (last === Number.POSITIVE_INFINITY || last === Number.NEGATIVE_INFINITY)
    )
      return {
        headline: "loss is infinite",
        lines: [
          "The training loss reached infinity: the weights are blowing up.",
          "Next: `/train logs` for the step it started; lower the learning rate or roll back the last change (`/train rollback`).",
        ],
      };
    if (points.length < s.minPoints) return "unknown";
    const third = Math.max(1, Math.floor(points.length / 3));
    const before = median(points.slice(0, third).filter(Number.isFinite));
    const now = median(points.slice(-third).filter(Number.isFinite));
    if (before === null || now === null || before <= 0) return "unknown";
    const rise = now / before;
    if (rise <= s.factor) return null;
    return {
      headline: `loss diverging: ${fmt(before)} → ${fmt(now)} in ${formatDuration(s.window)}`,
      lines: [
        `The training loss rose ${rise.toFixed(1)}x over the last ${formatDuration(s.window)} (alert above ${s.factor}x): training is moving away from a solution.`,
        "Usual causes: a learning rate too high for the batch size, or bad data.",
        "Next: `/train logs`; if a phase just changed the batch, roll it back (`/train rollback`).",
      ],
    };
  },
  resolved(ctx) {
    const loss = ctx.latestReachable()?.loss ?? null;
    return [
      loss !== null
        ? `The loss is ${fmt(loss)} and no longer rising.`
        : "The loss no longer rises.",
    ];
  },
});

function fmt(loss: number): string {
  return loss >= 100 ? loss.toFixed(0) : loss >= 1 ? loss.toFixed(2) : loss.toPrecision(2);
}
