/** The metrics a run chart can draw: the overview's four, then throughput and loss. */
export const CHART_METRICS = [
  "step_time",
  "vram",
  "host_ram",
  "gpu_util",
  "throughput",
  "loss",
] as const;
/** One drawable metric. */
export type ChartMetricName = (typeof CHART_METRICS)[number];
/** What an overview (`/train status`, `/train chart` without a metric) stacks, in order. */
export const OVERVIEW_METRICS: readonly ChartMetricName[] = [
  "step_time",
  "vram",
  "host_ram",
  "gpu_util",
];
