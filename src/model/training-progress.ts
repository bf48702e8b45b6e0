import type { RunConfig } from "../config/schema.ts";

/** Where a run is in its epoch and its whole training. */
export interface TrainingProgress {
  perEpoch: number | null;
  /** Steps of the whole training, when the config or the log says. */
  total: number | null;
  /** Steps done since the training began (across epochs). */
  globalStep: number;
  stepInEpoch: number;
  epoch: number | null;
}

/**
 * Where a run stands, from the config's steps and the newest sample. Loggers count steps
 * either across the whole run or within the epoch; both are seen and both are read here.
 */
export function trainingProgress(
  run: Pick<RunConfig, "steps">,
  sample: { step: number | null; epoch: number | null; totalSteps: number | null },
): TrainingProgress {
  const step = sample.step ?? 0;
  const perEpoch = run.steps.perEpoch ?? null;
  if (perEpoch === null) {
    return {
      perEpoch: null,
      total: sample.totalSteps,
      globalStep: step,
      stepInEpoch: step,
      epoch: sample.epoch,
    };
  }
  const withinEpochCounter = sample.epoch !== null && sample.epoch > 1 && step < perEpoch;
  const globalStep = withinEpochCounter ? ((sample.epoch as number) - 1) * perEpoch + step : step;
  const stepInEpoch = globalStep % perEpoch;
  const epoch = sample.epoch ?? Math.floor(globalStep / perEpoch) + 1;
  const total = run.steps.epochs ? perEpoch * run.steps.epochs : sample.totalSteps;
  return { perEpoch, total, globalStep, stepInEpoch, epoch };
}

/** Steps left to the end of the training, or null when the total is unknown. */
export function remainingSteps(progress: TrainingProgress): number | null {
  return progress.total === null ? null : Math.max(0, progress.total - progress.globalStep);
}
