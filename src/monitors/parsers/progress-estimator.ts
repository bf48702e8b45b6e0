/** A step seen at a time (ms since the epoch). */
export interface ProgressPoint {
  at: number;
  step: number;
  epoch?: number | null;
  /** The logger's own total for `step` (batches per epoch when it also prints an epoch). */
  total?: number | null;
  /** Set when `step` is already global, composed from an epoch and an in-epoch counter. */
  perEpoch?: number | null;
}

/** What the run's `steps` config and the logger add to the points. */
export interface ProgressOptions {
  /** Steps in one epoch (`steps.perEpoch`). */
  perEpoch?: number;
  /** Epochs in the whole run (`steps.epochs`). */
  epochs?: number;
  /** Seconds per step as the logger itself measured it (tqdm rate, mmcv `time:`). */
  reportedStepTime?: number | null;
  /** How many recent intervals the median looks at (default 20). */
  window?: number;
}

/** Rates and remaining times; null where the points cannot tell. */
export interface ProgressEstimate {
  stepTimeSeconds: number | null;
  stepsPerHour: number | null;
  /** Until step perEpoch × epochs. */
  etaSeconds: number | null;
  /** Until the end of the current epoch. */
  epochEtaSeconds: number | null;
  /** Steps done since the start of the run, counting earlier epochs. */
  globalStep: number | null;
}

/**
 * Estimates speed and remaining time from successive progress points.
 *
 * Speed is the median seconds per step over the recent intervals, so one slow evaluation or a
 * checkpoint does not swing it; points that share a timestamp (one poll read many lines) count
 * once; a step going backwards (the job was restarted) discards everything before it. A
 * step time the logger reports itself wins over the measured one.
 */
export function estimateProgress(
  points: readonly ProgressPoint[],
  options: ProgressOptions = {},
): ProgressEstimate {
  const latest = points[points.length - 1];
  // A step counts batches within its epoch when the logger prints an epoch and a total, and
  // that total is not larger than an epoch (else it is the run's total and the step global,
  // as in "Train step 12549/128000 (epoch 3/32)"). A fractional epoch (Hugging Face's 0.01)
  // also means a global step.
  const withinEpoch = (p: ProgressPoint) =>
    p.perEpoch == null &&
    p.epoch != null &&
    Number.isInteger(p.epoch) &&
    p.total != null &&
    (options.perEpoch == null || p.total <= options.perEpoch);
  const perEpochOf = (p: ProgressPoint) =>
    options.perEpoch ?? p.perEpoch ?? (withinEpoch(p) ? (p.total as number) : null);
  const globalOf = (p: ProgressPoint) =>
    withinEpoch(p) ? (p.epoch as number) * (perEpochOf(p) as number) + p.step : p.step;

  // One point per timestamp (the furthest), then only the run after the last restart.
  const collapsed: { at: number; global: number }[] = [];
  for (const p of [...points].sort((a, b) => a.at - b.at)) {
    const global = globalOf(p);
    const last = collapsed[collapsed.length - 1];
    if (last && last.at === p.at) last.global = global;
    else collapsed.push({ at: p.at, global });
  }
  let from = 0;
  for (let i = 1; i < collapsed.length; i += 1) {
    if (
      (collapsed[i] as { global: number }).global < (collapsed[i - 1] as { global: number }).global
    )
      from = i;
  }
  const run = collapsed.slice(from);
  const perStep: number[] = [];
  let anchor = run[0];
  for (const current of run.slice(1)) {
    if (!anchor) break;
    const steps = current.global - anchor.global;
    if (steps <= 0) continue; // the same step printed twice; wait for progress
    perStep.push((current.at - anchor.at) / 1000 / steps);
    anchor = current;
  }
  const window = perStep.slice(-(options.window ?? 20));
  const measured = window.length > 0 ? median(window) : null;
  const reported =
    options.reportedStepTime != null && options.reportedStepTime > 0
      ? options.reportedStepTime
      : null;
  const stepTime = reported ?? measured;

  const globalStep = latest ? globalOf(latest) : null;
  const perEpoch = latest ? perEpochOf(latest) : null;
  let etaSeconds: number | null = null;
  let epochEtaSeconds: number | null = null;
  if (stepTime !== null && latest && globalStep !== null) {
    if (options.perEpoch != null && options.epochs != null) {
      etaSeconds = Math.max(0, options.perEpoch * options.epochs - globalStep) * stepTime;
    }
    if (perEpoch != null && perEpoch > 0) {
      const inEpoch = withinEpoch(latest) ? latest.step : globalStep % perEpoch;
      epochEtaSeconds = Math.max(0, perEpoch - inEpoch) * stepTime;
    }
  }
  return {
    stepTimeSeconds: stepTime,
    stepsPerHour: stepTime !== null && stepTime > 0 ? 3600 / stepTime : null,
    etaSeconds,
    epochEtaSeconds,
    globalStep,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Seconds to `total` steps from `step` at `stepTime` seconds a step, or null when any is
 * unknown: the ETA whenever the total is known, also when it came from the log's own `N/M`.
 */
export function etaFromTotal(
  total: number | null | undefined,
  step: number | null | undefined,
  stepTime: number | null | undefined,
): number | null {
  if (total == null || step == null || stepTime == null || stepTime <= 0) return null;
  return Math.max(0, total - step) * stepTime;
}
