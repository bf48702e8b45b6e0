import type { Alerting } from "../alerts/create-alerting.ts";
import type { BotCoreService } from "../bot/core/bot-core.ts";
import type { Clock } from "../core/clock.ts";
import type { MonitorStore } from "../store/monitor-store.ts";

/** Poll records stay one row per poll this long; older successful polls in a row share one. */
export const POLLS_KEPT_EACH_MS = 3_600_000;

export interface HousekeepingOptions {
  clock: Clock;
  /** Samples, roll-ups and alert history older than this go (config `retention`). */
  retentionMs: number;
  /**
   * Raw samples older than this are rolled up per minute and per hour; step points and poll
   * records older than this go (config `rawSamples`). Omitted: kept until `retentionMs`.
   */
  rawMs?: number;
  /** Runs whose samples are rolled up, besides every run the store holds raw samples of. */
  runs?: () => readonly string[];
  store: MonitorStore;
  alerting: Pick<Alerting, "prune">;
  core: Pick<BotCoreService, "expireConfirmations">;
  /** How often it runs; once a minute by default. */
  everyMs?: number;
}

/**
 * Once a minute, {@link housekeep}. Returns a function that stops it.
 */
export function startHousekeeping(options: HousekeepingOptions): () => void {
  const timer = setInterval(() => housekeep(options), options.everyMs ?? 60_000);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * One round of housekeeping: rolls up raw samples past the raw window (a day's worth per run at
 * most, so a store that is far behind catches up over several minutes instead of stalling the
 * daemon), folds successful polls older than an hour into one record per streak, drops what is
 * past retention (samples, roll-ups, step points, polls, alert history) and marks overdue
 * confirmations expired (and audited).
 */
export function housekeep(options: HousekeepingOptions): void {
  const now = options.clock.now();
  const before = now - options.retentionMs;
  const rawBefore = Math.max(before, now - (options.rawMs ?? options.retentionMs));
  // Every run with raw samples, configured or not: a run taken out of the config would
  // otherwise keep its raw samples until retention.
  const runs = new Set([...(options.runs?.() ?? []), ...options.store.samples.runs()]);
  for (const name of runs) options.store.sampleRollups.rollUp(name, rawBefore);
  options.store.samples.prune(before);
  options.store.sampleRollups.prune(before);
  options.store.steps.prune(rawBefore);
  options.store.polls.prune(rawBefore);
  options.store.polls.compact(now - POLLS_KEPT_EACH_MS);
  options.alerting.prune(before);
  options.core.expireConfirmations();
}
