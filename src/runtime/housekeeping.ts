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
 * Raw samples one round rolls up at most, over all runs (a run's call may pass it by a day's
 * worth): at the top of each hour 100 runs at the default `sampleEvery` roll up 12,000, and a
 * store far behind catches up at 600,000 an hour without a round taking more than ~0.1 s.
 */
export const ROLLED_UP_PER_ROUND = 12_000;

/**
 * One round of housekeeping: drops what is past retention (samples, roll-ups, step points,
 * polls, alert history; samples and roll-ups a bounded bite per round, the oldest first), rolls
 * up raw samples past the raw window (a day's worth per run and {@link ROLLED_UP_PER_ROUND} in
 * all at most, so a store that is far behind catches up over several rounds instead of stalling
 * the daemon), folds successful polls older than an hour into one record per streak and marks
 * overdue confirmations expired (and audited).
 */
export function housekeep(options: HousekeepingOptions): void {
  const now = options.clock.now();
  const before = now - options.retentionMs;
  const rawBefore = Math.max(before, now - (options.rawMs ?? options.retentionMs));
  options.store.samples.prune(before);
  options.store.sampleRollups.prune(before);
  // Every run with raw samples, configured or not: a run taken out of the config would
  // otherwise keep its raw samples until retention. Samples past retention are not rolled up:
  // the pruning above deletes them over the next rounds.
  const runs = new Set([...(options.runs?.() ?? []), ...options.store.samples.runs()]);
  let rolled = 0;
  for (const name of runs) {
    if (rolled >= ROLLED_UP_PER_ROUND) break;
    rolled += options.store.sampleRollups.rollUp(name, rawBefore, 24, before);
  }
  options.store.steps.prune(rawBefore);
  options.store.polls.prune(rawBefore);
  options.store.polls.compact(now - POLLS_KEPT_EACH_MS);
  options.alerting.prune(before);
  options.core.expireConfirmations();
}
