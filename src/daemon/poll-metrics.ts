import { Counter, Gauge, type Registry } from "prom-client";
import type { PollSchedulerStats } from "../monitors/poll-scheduler.ts";

/**
 * Adds the poll schedule's health to a registry: rounds, rounds that did not finish before the
 * next began (and the polls they skipped), and how long the last round took. Read at scrape.
 */
export function registerPollMetrics(registry: Registry, stats: () => PollSchedulerStats): void {
  const gauge = (name: string, help: string, value: (s: PollSchedulerStats) => number | null) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        const v = value(stats());
        if (v !== null) this.set(v);
      },
    });
  const counter = (name: string, help: string, value: (s: PollSchedulerStats) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(value(stats()));
      },
    });
  counter("trainops_poll_rounds_total", "Poll rounds started", (s) => s.rounds);
  counter(
    "trainops_poll_round_overruns_total",
    "Poll rounds that began while polls of the previous round were still waiting or running",
    (s) => s.overruns,
  );
  counter(
    "trainops_poll_skipped_total",
    "Polls skipped because the run's previous poll was still going",
    (s) => s.skipped,
  );
  counter(
    "trainops_poll_ticks_missed_total",
    "Poll rounds never started: the schedule's tick came after the next one was due",
    (s) => s.missedTicks,
  );
  gauge(
    "trainops_poll_concurrency_limit",
    "Host probes allowed in flight now: fewer while probes take a large share of their deadline",
    (s) => s.concurrencyLimit,
  );
  gauge(
    "trainops_poll_round_seconds",
    "Time from the start of the last finished poll round to the end of its last poll",
    (s) => (s.lastRoundMs === null ? null : s.lastRoundMs / 1000),
  );
}
