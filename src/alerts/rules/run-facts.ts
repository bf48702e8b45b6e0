import type { RunSample } from "../../model/monitoring.ts";
import type { RuleContext } from "./rule.ts";

/** How far back the state rules look; longer gaps are treated as "unknown". */
export const LOOKBACK_MS = 24 * 3_600_000;

/** The run's total steps: from the log when it says, else perEpoch × epochs from the config. */
export function totalSteps(ctx: RuleContext, sample: RunSample | null): number | null {
  if (sample?.totalSteps) return sample.totalSteps;
  const steps = ctx.runConfig?.steps;
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

/** The training process's life as the samples show it: last alive sample and its streak. */
export interface AliveStreak {
  /** First sample of the newest run of alive samples. */
  start: RunSample;
  /** Last alive sample. */
  last: RunSample;
  /** Whether a not-alive sample precedes the streak (we saw it start). */
  startObserved: boolean;
  /** Highest step seen during the streak. */
  maxStep: number | null;
}

/** The newest streak of alive samples within the lookback, or null if none. */
export function lastAliveStreak(samples: RunSample[]): AliveStreak | null {
  const seen = samples.filter((s) => s.reachable && s.alive !== null);
  let end = -1;
  for (let i = seen.length - 1; i >= 0; i--) {
    if (seen[i]?.alive) {
      end = i;
      break;
    }
  }
  if (end < 0) return null;
  let begin = end;
  while (begin > 0 && seen[begin - 1]?.alive) begin--;
  let maxStep: number | null = null;
  for (let i = begin; i < seen.length; i++) {
    const step = seen[i]?.step;
    if (step !== null && step !== undefined && (maxStep === null || step > maxStep)) maxStep = step;
  }
  return {
    start: seen[begin] as RunSample,
    last: seen[end] as RunSample,
    startObserved: begin > 0,
    maxStep,
  };
}
