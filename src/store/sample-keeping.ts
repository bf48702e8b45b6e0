import type { RunSample } from "../model/monitoring.ts";

/**
 * A poll a little early still counts as on time: polls every `sampleEvery` land a few
 * milliseconds either side of it, and dropping those would halve the history.
 */
const EARLY_SHARE = 0.1;

/** Whether `next` differs from `previous` in what the rules and phase judging turn on. */
export function changesState(previous: RunSample, next: RunSample): boolean {
  return (
    previous.reachable !== next.reachable ||
    previous.alive !== next.alive ||
    (previous.step !== null && next.step !== null && next.step < previous.step)
  );
}

/**
 * Whether a poll's sample joins the stored history: always with `everyMs` 0, for a run's first,
 * for a VM that did not answer (each failed poll counts), at a change of state, and once
 * `everyMs` has passed since the last one kept; otherwise it only replaces the run's newest.
 */
export function keepsSample(options: {
  previous: RunSample | null;
  next: RunSample;
  lastKeptAt: number | null;
  everyMs: number;
}): boolean {
  const { previous, next, lastKeptAt, everyMs } = options;
  if (everyMs <= 0 || lastKeptAt === null || !next.reachable) return true;
  if (previous && changesState(previous, next)) return true;
  return next.at - lastKeptAt >= everyMs * (1 - EARLY_SHARE);
}
