import * as z from "zod";
import { formatDuration } from "../../core/duration.ts";
import { median } from "../../core/statistics.ts";
import { formatCount, formatPercent } from "../../message/format.ts";
import type { RunSample } from "../../model/monitoring.ts";
import { baseSettings, defineRule, durationSetting, type RuleContext } from "./rule.ts";
import { LOOKBACK_MS } from "./run-facts.ts";

/**
 * Steps per hour below `share` of the current training's own median, for `for`: a slow node,
 * a GPU throttling on heat, a data loader starved by a slow disk. The median is the training's
 * since its last start (a phase change, a restart, a resume each start a new one, with its own
 * speed), after `warmup`; the slow stretch itself is left out of it, so a long slowdown does not
 * drag the bar down until it resolves itself.
 */
export const throughputDropRule = defineRule({
  name: "throughput_drop",
  label: "throughput drop",
  settings: baseSettings({ severity: "warning", for: "10m", repeatInterval: "2h" }).extend({
    /** Share of the median below which the speed counts as dropped. */
    share: z
      .number()
      .gt(0)
      .lt(1)
      .default(0.6)
      .describe("Fires below this share of the median steps/h; default 0.6"),
    /** Time after a (re)start whose speed is not judged and not part of the median. */
    warmup: durationSetting
      .prefault("10m")
      .describe("Time after a start, restart or phase change that is not judged; default 10m"),
    /** Readings the median needs. */
    minPoints: z
      .number()
      .int()
      .min(3)
      .default(10)
      .describe("Speed readings after warm-up the median needs; default 10"),
    /** The newest readings averaged (median) into "the speed now". */
    recent: z
      .number()
      .int()
      .min(1)
      .default(3)
      .describe("Newest readings whose median is the speed now; default 3"),
  }),
  evaluate(ctx, s, open) {
    const latest = ctx.latest();
    if (!latest?.reachable || latest.alive === null) return "unknown";
    // A dead or stopping process is the crash and stall rules' business, not a slow one.
    if (!latest.alive) return null;
    const expected = ctx.expectedStop();
    if (expected && ctx.now < expected.until) return null;
    const samples = ctx.samplesSince(ctx.now - LOOKBACK_MS).filter((x) => x.reachable);
    const start = trainingStart(ctx, samples);
    const judgedFrom = start + s.warmup;
    if (ctx.now < judgedFrom) return null;
    const speeds = samples
      .filter((x) => x.at >= judgedFrom && x.alive !== false)
      .map((x) => ({ at: x.at, value: stepsPerHour(x) }))
      .filter((x): x is { at: number; value: number } => x.value !== null);
    const recent = speeds.slice(-s.recent);
    // While an alert is open its own stretch stays out of the median it is judged against.
    const baseEnd = open ? open.startedAt : (recent[0]?.at ?? ctx.now);
    const base = speeds.filter((x) => x.at < baseEnd).map((x) => x.value);
    if (base.length < s.minPoints || recent.length < s.recent) return "unknown";
    const normal = median(base) as number;
    const now = median(recent.map((x) => x.value)) as number;
    if (normal <= 0 || now >= s.share * normal) return null;
    const ratio = now / normal;
    // The slow stretch began with the first slow reading among the newest ones.
    const since = recent.find((x) => x.value < s.share * normal)?.at ?? ctx.now;
    return {
      headline: `throughput dropped to ${formatPercent(ratio)}: ${formatCount(Math.round(now))} steps/h (median ${formatCount(Math.round(normal))})`,
      lines: [
        `Training runs at ${formatCount(Math.round(now))} steps/h against a median of ${formatCount(Math.round(normal))} steps/h since it last started (alert below ${formatPercent(s.share)}${s.for > 0 ? ` for ${formatDuration(s.for)}` : ""}).`,
        "Usual causes: a GPU throttling (temperature, power), a slow or shared node, a data loader waiting on disk or network.",
        "Next: `/train status` for GPU utilisation and temperature, `/train chart` for the speed; `nvidia-smi -q -d PERFORMANCE` on the VM names a throttle reason.",
      ],
      since,
    };
  },
  resolved(ctx) {
    const speed = ctx.latestReachable();
    const now = speed ? stepsPerHour(speed) : null;
    return [
      now !== null
        ? `Training is back to ${formatCount(Math.round(now))} steps/h.`
        : "Training is back to its usual speed.",
    ];
  },
});

/** Steps per hour of a sample: its rate, else from its step time. */
function stepsPerHour(sample: RunSample): number | null {
  if (sample.stepsPerHour !== null && sample.stepsPerHour > 0) return sample.stepsPerHour;
  if (sample.stepTimeSeconds !== null && sample.stepTimeSeconds > 0)
    return 3600 / sample.stepTimeSeconds;
  return null;
}

/**
 * When the current training began: the newest of a process start seen in the samples (a
 * not-alive sample before alive ones), a step counter that went back (a resume from a
 * checkpoint), a start that an operation recorded (restart, phase change, rollback), or the
 * oldest sample read.
 */
function trainingStart(ctx: RuleContext, samples: RunSample[]): number {
  let start = samples[0]?.at ?? ctx.now;
  for (let i = 1; i < samples.length; i++) {
    const prev = samples[i - 1] as RunSample;
    const cur = samples[i] as RunSample;
    if (prev.alive === false && cur.alive) start = cur.at;
    if (prev.step !== null && cur.step !== null && cur.step < prev.step) start = cur.at;
  }
  const started = ctx.expectedStop()?.startedAt;
  if (started !== null && started !== undefined && started > start) start = started;
  return start;
}
