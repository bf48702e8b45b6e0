import type { StoredEvent } from "../store/events-repo.ts";
import type { SampleMetric, SeriesPoint } from "../store/sample-metrics.ts";
import type { ChartMetricName } from "./chart-metrics.ts";

/** Where a chart reads its data: the store's repositories (or anything shaped like them). */
export interface ChartSource {
  samples: {
    series(
      run: string,
      metric: SampleMetric,
      from: number,
      to: number,
      buckets?: number,
    ): SeriesPoint[];
    /** One pass for several metrics, when the source has it (SamplesRepo does). */
    seriesMany?(
      run: string,
      metrics: readonly SampleMetric[],
      from: number,
      to: number,
      buckets?: number,
    ): Record<string, SeriesPoint[]>;
  };

  events: { range(run: string, from: number, to: number): StoredEvent[] };
}

/** How each chart metric is read, scaled and drawn. */
export interface MetricStyle {
  title: string;
  column: SampleMetric;
  unit: string;
  scale: (raw: number) => number;
  colour: string;
  /** The axis' unit in the panel's heading when it differs from `unit` ("unitless" for loss). */
  axisUnit?: string;
  /** Fixed y range (GPU utilisation is 0-100 %). */
  fixedMax?: number;
  limitKey?: "gpuMemoryGiB" | "hostMemoryGiB";
}

const GIB = 1024 ** 3;

export const METRIC_STYLES: Record<ChartMetricName, MetricStyle> = {
  step_time: {
    title: "Step time",
    column: "step_time_s",
    unit: "s/step",
    scale: (v) => v,
    colour: "#1f77b4",
  },
  vram: {
    title: "VRAM, busiest GPU",
    column: "gpu_mem_used_mib",
    unit: "GiB",
    scale: (v) => v / 1024,
    colour: "#ff7f0e",
    limitKey: "gpuMemoryGiB",
  },
  host_ram: {
    title: "Host RAM",
    column: "host_used_bytes",
    unit: "GiB",
    scale: (v) => v / GIB,
    colour: "#2ca02c",
    limitKey: "hostMemoryGiB",
  },
  gpu_util: {
    title: "GPU utilisation",
    column: "gpu_util_pct",
    unit: "%",
    scale: (v) => v,
    colour: "#9467bd",
    fixedMax: 100,
  },
  throughput: {
    title: "Throughput",
    column: "steps_per_hour",
    unit: "steps/h",
    scale: (v) => v,
    colour: "#17becf",
  },
  loss: {
    title: "Loss",
    column: "loss",
    unit: "",
    axisUnit: "unitless",
    scale: (v) => v,
    colour: "#8c564b",
  },
};

/** Colours of the overlays, exported so tests can look for them. */
export const OVERLAY_COLOURS = { limit: "#d62728", oom: "#e6007e", phase: "#555555" } as const;

/** Event kinds drawn as OOM markers. */
export const OOM_KINDS: ReadonlySet<string> = new Set([
  "cuda_oom",
  "host_oom_kill",
  "worker_killed",
]);
