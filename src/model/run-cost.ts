import type { RunConfig } from "../config/schema.ts";

/** A run's price and what it has cost and will cost (`status --json`'s `cost`, a contract). */
export interface RunCost {
  perHour: number;
  currency: string;
  /** Since monitoring began (the first sample), at `perHour`; null without a sample. */
  soFar: number | null;
  /** The steps left at the current step time; null when either is unknown. */
  toFinish: number | null;
}

/**
 * The cost of a run from its config's `cost` and two spans in seconds; null when the run has
 * no price configured.
 */
export function runCost(
  cost: RunConfig["cost"],
  elapsedSeconds: number | null,
  remainingSeconds: number | null,
): RunCost | null {
  if (!cost) return null;
  const money = (seconds: number | null) =>
    seconds === null ? null : Math.round((seconds / 3600) * cost.perHour * 100) / 100;
  return {
    perHour: cost.perHour,
    currency: cost.currency,
    soFar: money(elapsedSeconds),
    toFinish: money(remainingSeconds),
  };
}
