import * as z from "zod";
import { formatDuration } from "../../core/duration.ts";
import { median } from "../../core/statistics.ts";
import { formatSeconds } from "../../message/format.ts";
import { baseSettings, defineRule, durationSetting } from "./rule.ts";
import { LOOKBACK_MS } from "./run-facts.ts";
import { trainerState } from "./trainer-state.ts";

/** Newest step times the median is taken over. */
const STEP_TIMES = 50;

/**
 * Of the samples that read a step: the newest step, since when it has not changed, and the
 * newest {@link STEP_TIMES} step times (the oldest dropped as each new one comes).
 */
interface StepFacts {
  step: number | null;
  at: number;
  /** First sample of the trailing run at the same step. */
  since: number;
  /** Times and step times (NaN: none) of the newest samples with a step, oldest first. */
  times: Array<{ at: number; seconds: number }>;
}

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
  facts: () => ({
    span: LOOKBACK_MS,
    init: (): StepFacts => ({ step: null, at: 0, since: 0, times: [] }),
    add(f: StepFacts, x) {
      if (!x.reachable || x.step === null) return;
      if (f.step !== x.step) f.since = x.at;
      f.step = x.step;
      f.at = x.at;
      f.times.push({ at: x.at, seconds: x.stepTimeSeconds ?? Number.NaN });
      if (f.times.length > STEP_TIMES) f.times.shift();
    },
    copy: (f: StepFacts): StepFacts => ({ ...f, times: f.times.slice() }),
  }),
  evaluate(ctx, s, _open, facts) {
    const trainer = trainerState(ctx);
    if (trainer !== "running") return trainer === "unknown" ? "unknown" : null;
    // What a day's window of samples shows: a step older than that is no reading.
    const from = ctx.now - LOOKBACK_MS;
    if (facts.step === null || facts.at < from) return "unknown";
    const since = Math.max(facts.since, from);
    const stepTimes = facts.times
      .filter((x) => x.at >= from && x.seconds > 0)
      .map((x) => x.seconds);
    const med = median(stepTimes);
    const thresholdMs = Math.max(s.k * (med ?? 0) * 1000, s.floor);
    const stalledFor = ctx.now - since;
    if (stalledFor < thresholdMs) return null;
    return {
      headline: `stalled at step ${facts.step} for ${formatDuration(stalledFor)}`,
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
