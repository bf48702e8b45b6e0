import type { RunSample } from "../model/monitoring.ts";

/** One point of a metric series, for charts and criteria. */
export interface SeriesPoint {
  at: number;
  value: number;
}

/**
 * The chartable metrics of a sample, each a column of `samples` and of the roll-ups (GPUs as
 * their aggregates: the busiest GPU's memory, the mean utilisation).
 */
export const SAMPLE_METRICS = [
  "step",
  "step_time_s",
  "steps_per_hour",
  "gpu_mem_used_mib",
  "gpu_util_pct",
  "host_used_bytes",
  "workers_rss_bytes",
  "loss",
] as const;

/** Metrics a series can be read for. */
export type SampleMetric = (typeof SAMPLE_METRICS)[number];

const METRIC_NAMES: ReadonlySet<string> = new Set<string>(SAMPLE_METRICS);

/** Whether `name` is a chartable metric (names reach SQL, so nothing else may pass). */
export function isSampleMetric(name: string): name is SampleMetric {
  return METRIC_NAMES.has(name);
}

/** The chartable metrics of a sample, as their columns hold them. */
export function metricValues(sample: RunSample): Record<SampleMetric, number | null> {
  const used = sample.gpus.map((g) => g.memoryUsedMiB).filter((v): v is number => v !== null);
  const util = sample.gpus.map((g) => g.utilizationPercent).filter((v): v is number => v !== null);
  return {
    step: sample.step,
    step_time_s: sample.stepTimeSeconds,
    steps_per_hour: sample.stepsPerHour,
    gpu_mem_used_mib: used.length ? Math.max(...used) : null,
    gpu_util_pct: util.length ? util.reduce((a, b) => a + b, 0) / util.length : null,
    host_used_bytes: sample.hostMemory?.usedBytes ?? null,
    workers_rss_bytes: sample.workers?.rssBytes ?? null,
    loss: sample.loss,
  };
}
