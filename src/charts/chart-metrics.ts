/** The metrics a run chart can draw, in the order an overview stacks them. */
export const CHART_METRICS = ["step_time", "vram", "host_ram", "gpu_util"] as const;
/** One drawable metric. */
export type ChartMetricName = (typeof CHART_METRICS)[number];
