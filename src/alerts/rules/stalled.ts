import * as z from "zod";
import { formatDuration } from "../../core/duration.ts";
import { median } from "../../core/statistics.ts";
import { formatSeconds } from "../../message/format.ts";
import { baseSettings, defineRule, durationSetting } from "./rule.ts";
import { LOOKBACK_MS } from "./run-facts.ts";

/** No new step for max(k × median step time, floor) while the process still lives. */
export const stalledRule = defineRule({
  name: "stalled",
  label: "stall",
  settings: baseSettings({ severity: "warning", repeatInterval: "30m" }).extend({
    k: z
      .number()
      .positive()
      .default(10)
      .describe("Stalled after k times the median step time without a new step"),
    floor: durationSetting.prefault("10m").describe("… and at least this long"),
  }),
  evaluate(ctx, s) {
    const latest = ctx.latest();
    if (!latest?.reachable || latest.alive === null) return "unknown";
    if (!latest.alive) return null;
    const expected = ctx.expectedStop();
    if (expected && ctx.now < expected.until) return null;
    const samples = ctx
      .samplesSince(ctx.now - LOOKBACK_MS)
      .filter((x) => x.reachable && x.step !== null);
    const last = samples.at(-1);
    if (!last || last.step === null) return "unknown";
    let first = samples.length - 1;
    while (first > 0 && samples[first - 1]?.step === last.step) first--;
    const since = (samples[first] as (typeof samples)[number]).at;
    const stepTimes = samples
      .slice(-50)
      .map((x) => x.stepTimeSeconds)
      .filter((v): v is number => v !== null && v > 0);
    const med = median(stepTimes);
    const thresholdMs = Math.max(s.k * (med ?? 0) * 1000, s.floor);
    const stalledFor = ctx.now - since;
    if (stalledFor < thresholdMs) return null;
    return {
      headline: `stalled at step ${last.step} for ${formatDuration(stalledFor)}`,
      lines: [
        `No new step for ${formatDuration(stalledFor)} while the process is alive${med !== null ? ` (median step time ${formatSeconds(med)}; limit ${formatDuration(thresholdMs)})` : ""}.`,
        "Next: look at the log tail (`/train logs`); `py-spy dump --pid <trainer pid>` shows where it waits.",
      ],
      since,
    };
  },
  resolved(ctx) {
    const step = ctx.latestReachable()?.step;
    return [
      `Training is moving again${step !== null && step !== undefined ? `: step ${step}` : ""}.`,
    ];
  },
});
