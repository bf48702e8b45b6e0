import type { RunConfig } from "../../config/schema.ts";
import type { RunSample } from "../../model/monitoring.ts";

/** How far back the state rules look; longer gaps are treated as "unknown". */
export const LOOKBACK_MS = 24 * 3_600_000;

/**
 * The run's total steps: from the log when it says, else perEpoch × epochs from the run's
 * config (`ctx.runConfig` in an evaluation; the run's config where facts are kept).
 */
export function totalSteps(run: RunConfig | undefined, sample: RunSample | null): number | null {
  if (sample?.totalSteps) return sample.totalSteps;
  const steps = run?.steps;
  return steps?.perEpoch && steps.epochs ? steps.perEpoch * steps.epochs : null;
}

/** Mean GPU utilisation of a sample, or null when nvidia-smi gave none. */
export function gpuUtilization(sample: RunSample): number | null {
  const values = sample.gpus
    .map((g) => g.utilizationPercent)
    .filter((v): v is number => v !== null);
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
}

/** The busiest GPU's memory use in MiB, or null. */
export function vramUsedMiB(sample: RunSample): number | null {
  const values = sample.gpus.map((g) => g.memoryUsedMiB).filter((v): v is number => v !== null);
  return values.length ? Math.max(...values) : null;
}

/** A sample's time and step, as a fact keeps it. */
export interface SamplePoint {
  at: number;
  step: number | null;
}

/** The training process's life as the samples show it: last alive sample and its streak. */
export interface AliveStreak {
  /** First sample of the newest run of alive samples. */
  start: SamplePoint;
  /** Last alive sample. */
  last: SamplePoint;
  /** Whether a not-alive sample precedes the streak (we saw it start). */
  startObserved: boolean;
  /** Highest step seen during the streak. */
  maxStep: number | null;
  /** First not-alive sample after the last alive one, if any. */
  diedAt: number | null;
}

/**
 * The newest streak of alive samples, kept per sample: of the samples where the process table
 * was read (reachable, alive known), the first and last of the newest alive run, the highest
 * step from its start on, whether a not-alive sample came before it, and the first not-alive
 * sample after it.
 */
export interface AliveStreakFacts {
  start: SamplePoint | null;
  last: SamplePoint | null;
  /** The read sample before the streak's start (a not-alive one), if any. */
  beforeStartAt: number | null;
  maxStep: number | null;
  diedAt: number | null;
  /** Whether the newest read sample was alive. */
  lastSeenAlive: boolean;
  /** The newest read sample's time. */
  lastSeenAt: number | null;
}

/** The alive-streak facts, kept by each rule that reads them (crashed, finished). */
export const aliveStreakFacts = {
  span: LOOKBACK_MS,
  init: (): AliveStreakFacts => ({
    start: null,
    last: null,
    beforeStartAt: null,
    maxStep: null,
    diedAt: null,
    lastSeenAlive: false,
    lastSeenAt: null,
  }),
  add(f: AliveStreakFacts, s: RunSample): void {
    if (s.alive === false && f.last && f.diedAt === null && s.at > f.last.at) f.diedAt = s.at;
    if (!s.reachable || s.alive === null) return;
    const point = { at: s.at, step: s.step };
    if (s.alive) {
      if (!f.lastSeenAlive) {
        f.start = point;
        f.beforeStartAt = f.lastSeenAt;
        f.maxStep = null;
      }
      f.last = point;
      f.diedAt = null;
    }
    if (f.start && s.step !== null && (f.maxStep === null || s.step > f.maxStep))
      f.maxStep = s.step;
    f.lastSeenAlive = s.alive;
    f.lastSeenAt = s.at;
  },
  copy: (f: AliveStreakFacts): AliveStreakFacts => ({ ...f }),
};

/**
 * The newest streak of alive samples within the lookback before `now`, or null if none. A
 * streak that began before the lookback starts at its edge, unobserved, as a day's window of
 * samples showed it.
 */
export function lastAliveStreak(f: AliveStreakFacts, now: number): AliveStreak | null {
  const from = now - LOOKBACK_MS;
  if (!f.start || !f.last || f.last.at < from) return null;
  const clipped = f.start.at < from;
  return {
    start: clipped ? { at: from, step: null } : f.start,
    last: f.last,
    startObserved: !clipped && f.beforeStartAt !== null && f.beforeStartAt >= from,
    maxStep: f.maxStep,
    diedAt: f.diedAt,
  };
}
