import * as z from "zod";
import { formatDuration } from "../../core/duration.ts";
import { median } from "../../core/statistics.ts";
import { formatCount, formatPercent } from "../../message/format.ts";
import type { RunSample } from "../../model/monitoring.ts";
import { baseSettings, defineRule, durationSetting, type RuleContext } from "./rule.ts";
import { LOOKBACK_MS } from "./run-facts.ts";
import { SampleSeries } from "./sample-series.ts";
import { trainerState } from "./trainer-state.ts";

/**
 * The current training's speed readings (steps/h after each start) and where it began: the
 * newest process start seen (a not-alive sample before an alive one) or step counter going back.
 */
interface SpeedFacts {
  /** First reachable sample. */
  firstAt: number | null;
  /** Newest start seen in the samples, or null. */
  startAt: number | null;
  previous: { alive: boolean | null; step: number | null } | null;
  /** Steps/h of the samples since that start while the process was not seen gone. */
  speeds: SampleSeries;
}

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
  facts: () => ({
    span: LOOKBACK_MS,
    init: (): SpeedFacts => ({
      firstAt: null,
      startAt: null,
      previous: null,
      speeds: new SampleSeries(LOOKBACK_MS),
    }),
    add(f: SpeedFacts, x) {
      if (!x.reachable) return;
      f.firstAt ??= x.at;
      const prev = f.previous;
      if (
        prev &&
        ((prev.alive === false && x.alive) ||
          (prev.step !== null && x.step !== null && x.step < prev.step))
      ) {
        f.startAt = x.at;
        // Readings before a start are never judged again.
        f.speeds.clear();
      }
      f.previous = { alive: x.alive, step: x.step };
      const value = stepsPerHour(x);
      if (x.alive !== false && value !== null) f.speeds.push(x.at, [value]);
    },
    copy: (f: SpeedFacts): SpeedFacts => ({ ...f, speeds: f.speeds.copy() }),
  }),
  evaluate(ctx, s, open, facts) {
    // A dead or stopping process is the crash and stall rules' business, not a slow one.
    const trainer = trainerState(ctx);
    if (trainer !== "running") return trainer === "unknown" ? "unknown" : null;
    const from = ctx.now - LOOKBACK_MS;
    const start = trainingStart(ctx, facts, from);
    const judgedFrom = start + s.warmup;
    if (ctx.now < judgedFrom) return null;
    const speeds = facts.speeds
      .since(Math.max(judgedFrom, from))
      .map((x) => ({ at: x.at, value: x.values[0] as number }));
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
 * oldest sample read (the lookback's edge for a run watched longer).
 */
function trainingStart(ctx: RuleContext, facts: SpeedFacts, from: number): number {
  const oldest = facts.firstAt === null ? ctx.now : Math.max(facts.firstAt, from);
  let start = facts.startAt !== null && facts.startAt >= oldest ? facts.startAt : oldest;
  const started = ctx.expectedStop()?.startedAt;
  if (started !== null && started !== undefined && started > start) start = started;
  return start;
}
