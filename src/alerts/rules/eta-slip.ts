import * as z from "zod";
import type { RunConfig } from "../../config/schema.ts";
import { formatDuration, parseDuration } from "../../core/duration.ts";
import { median } from "../../core/statistics.ts";
import { formatPercent, formatSpan } from "../../message/format.ts";
import type { RunSample } from "../../model/monitoring.ts";
import { baseSettings, defineRule, durationSetting } from "./rule.ts";
import { LOOKBACK_MS, totalSteps } from "./run-facts.ts";
import { SampleSeries } from "./sample-series.ts";

/** How much later the finish may move: a duration (`6h`) or a share of what was left (`10%`). */
const slipSetting = z
  .string()
  .regex(
    /^(\d+(\.\d+)?(ms|s|m|h|d)|\d+(\.\d+)?%)$/,
    "expected a duration like 6h or 1d, or a share of the time that was left like 10%",
  )
  .transform((text) =>
    text.endsWith("%")
      ? { kind: "share" as const, value: Number(text.slice(0, -1)) / 100, text }
      : { kind: "duration" as const, value: parseDuration(text), text },
  );

/** Readings at each end whose median is the finish time there (one poll's ETA is noisy). */
const READINGS = 5;

/**
 * The projected finish (time of a reading + its ETA) moved later by more than `by` since
 * `reference` ago, or since the oldest reading when the run is younger than that. A slower
 * phase, restarts that lose progress, a node that got slower: each costs days that no single
 * alert says.
 */
export const etaSlipRule = defineRule({
  name: "eta_slip",
  label: "ETA slip",
  settings: baseSettings({ severity: "warning", repeatInterval: "12h" }).extend({
    /** How much later the finish may move before it fires. */
    by: slipSetting
      .prefault("10%")
      .describe(
        "How much later the finish may move: a duration (6h, 1d) or a share of the time that was left then (10%); default 10%",
      ),
    /** How far back the finish is compared. */
    reference: durationSetting
      .prefault("24h")
      .refine((ms) => ms <= LOOKBACK_MS, "at most 24h")
      .describe("How far back the finish is compared (at most 24h); default 24h"),
    /** The oldest reading must be at least this old to be compared at all. */
    minHistory: durationSetting
      .prefault("1h")
      .describe("A run with less history than this is not judged; default 1h"),
  }),
  // The projected finish of each reading over `reference`.
  facts: (s) => ({
    span: s.reference,
    init: () => new SampleSeries(s.reference),
    add(series: SampleSeries, x, run) {
      const finish = finishAt(run, x);
      if (finish !== null) series.push(x.at, [finish]);
    },
    copy: (series: SampleSeries) => series.copy(),
  }),
  evaluate(ctx, s, _open, facts) {
    const latest = ctx.latest();
    if (!latest?.reachable) return "unknown";
    const readings = facts
      .since(ctx.now - s.reference)
      .map((x) => ({ at: x.at, finish: x.values[0] as number }));
    const first = readings[0];
    if (!first || ctx.now - first.at < s.minHistory) return "unknown";
    const then = readings.slice(0, READINGS);
    const now = readings.slice(-READINGS);
    if (now.length < READINGS || (now[0] as { at: number }).at <= (then.at(-1)?.at ?? 0))
      return "unknown";
    const thenAt = median(then.map((x) => x.at)) as number;
    const thenFinish = median(then.map((x) => x.finish)) as number;
    const nowAt = median(now.map((x) => x.at)) as number;
    const nowFinish = median(now.map((x) => x.finish)) as number;
    const slip = nowFinish - thenFinish;
    const leftThen = Math.max(0, thenFinish - thenAt);
    const limit = s.by.kind === "share" ? s.by.value * leftThen : s.by.value;
    if (slip <= limit || slip <= 0) return null;
    const span = formatDuration(ctx.now - first.at);
    const limitText =
      s.by.kind === "share"
        ? `${formatPercent(s.by.value)} of the ${formatSpan(leftThen / 1000)} left then`
        : formatDuration(s.by.value);
    return {
      headline: `finish moved ${formatSpan(slip / 1000)} later in ${span}: ETA ${formatSpan((nowFinish - nowAt) / 1000)}`,
      lines: [
        `${span} ago the run was due to finish in ${formatSpan(leftThen / 1000)}; now in ${formatSpan((nowFinish - nowAt) / 1000)}: ${formatSpan(slip / 1000)} later (alert above ${limitText}).`,
        "Usual causes: a slower phase or setting, restarts that lost progress, a slower node.",
        "Next: `/train status` and `/train plan` for the speed per phase; roll back a slower change (`/train rollback`).",
      ],
    };
  },
  resolved(ctx) {
    const eta = ctx.latestReachable();
    const finish = eta ? finishAt(ctx.runConfig, eta) : null;
    return [
      finish !== null
        ? `The finish is back within bounds: ETA ${formatSpan((finish - (eta as RunSample).at) / 1000)}.`
        : "The finish is back within bounds.",
    ];
  },
});

/** When a reading says the run will finish: its ETA, else the steps left at its step time. */
function finishAt(run: RunConfig | undefined, sample: RunSample): number | null {
  if (!sample.reachable || sample.alive === false) return null;
  if (sample.etaSeconds !== null) return sample.at + sample.etaSeconds * 1000;
  const total = totalSteps(run, sample);
  if (total === null || sample.step === null || !sample.stepTimeSeconds) return null;
  return sample.at + Math.max(0, total - sample.step) * sample.stepTimeSeconds * 1000;
}
