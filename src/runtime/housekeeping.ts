import type { Alerting } from "../alerts/create-alerting.ts";
import type { BotCoreService } from "../bot/core/bot-core.ts";
import type { Clock } from "../core/clock.ts";
import type { MonitorStore } from "../store/monitor-store.ts";

export interface HousekeepingOptions {
  clock: Clock;
  /** Samples, step points and poll records older than this go (config `retention`). */
  retentionMs: number;
  store: MonitorStore;
  alerting: Pick<Alerting, "prune">;
  core: Pick<BotCoreService, "expireConfirmations">;
  /** How often it runs; once a minute by default. */
  everyMs?: number;
}

/**
 * Once a minute: drops what is past retention and marks overdue confirmations expired (and
 * audited). Returns a function that stops it.
 */
export function startHousekeeping(options: HousekeepingOptions): () => void {
  const run = () => {
    const before = options.clock.now() - options.retentionMs;
    options.store.samples.prune(before);
    options.store.steps.prune(before);
    options.store.polls.prune(before);
    options.alerting.prune(before);
    options.core.expireConfirmations();
  };
  const timer = setInterval(run, options.everyMs ?? 60_000);
  timer.unref();
  return () => clearInterval(timer);
}
