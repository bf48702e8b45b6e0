import { Gauge, Registry } from "prom-client";
import type { RunSample } from "../model/monitoring.ts";

/** What the metrics read on each scrape; all from the store, so a scrape never touches a VM. */
export interface MetricsSource {
  runs(): string[];
  latest(run: string): RunSample | null;
  /** Newest sample that reached the VM, for progress figures that an outage should not blank. */
  latestReachable(run: string): RunSample | null;
  firingAlerts(run: string): number;
  /** Index of the current phase (0 = baseline), or null without a plan. */
  phase(run: string): number | null;
}

/**
 * Builds a private prom-client registry with per-run gauges (label `run`; GPU gauges also
 * `gpu`). Values are read from the source at scrape time.
 */
export function createRunMetrics(source: MetricsSource): Registry {
  const registry = new Registry();
  const runGauge = (
    name: string,
    help: string,
    value: (s: RunSample) => number | null | undefined,
    reachableOnly = true,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ["run"],
      registers: [registry],
      collect() {
        this.reset();
        for (const run of source.runs()) {
          const sample = reachableOnly ? source.latestReachable(run) : source.latest(run);
          const v = sample ? value(sample) : null;
          if (v !== null && v !== undefined && Number.isFinite(v)) this.set({ run }, v);
        }
      },
    });
  runGauge("trainops_step", "Last training step seen in the log", (s) => s.step);
  runGauge(
    "trainops_total_steps",
    "Steps in the whole training (perEpoch x epochs)",
    (s) => s.totalSteps,
  );
  runGauge("trainops_step_time_seconds", "Seconds per training step", (s) => s.stepTimeSeconds);
  runGauge("trainops_steps_per_hour", "Training steps per hour", (s) => s.stepsPerHour);
  runGauge(
    "trainops_eta_seconds",
    "Seconds until the last step at the current rate",
    (s) => s.etaSeconds,
  );
  runGauge(
    "trainops_host_memory_used_bytes",
    "Host RAM in use (total - available)",
    (s) => s.hostMemory?.usedBytes,
  );
  runGauge("trainops_host_memory_total_bytes", "Host RAM", (s) => s.hostMemory?.totalBytes);
  runGauge("trainops_workers", "Data-loader worker processes", (s) => s.workers?.count);
  runGauge(
    "trainops_workers_rss_bytes",
    "Summed RSS of the data-loader workers",
    (s) => s.workers?.rssBytes,
  );
  runGauge(
    "trainops_alive",
    "1 when the training process runs",
    (s) => (s.alive === null ? null : s.alive ? 1 : 0),
    false,
  );
  runGauge(
    "trainops_reachable",
    "1 when the last poll reached the VM",
    (s) => (s.reachable ? 1 : 0),
    false,
  );
  const gpuGauge = (
    name: string,
    help: string,
    value: (g: RunSample["gpus"][number]) => number | null,
  ) =>
    new Gauge({
      name,
      help,
      // `node` only for jobs on several nodes (Slurm): GPU indices repeat per node.
      labelNames: ["run", "gpu", "node"],
      registers: [registry],
      collect() {
        this.reset();
        for (const run of source.runs()) {
          for (const gpu of source.latestReachable(run)?.gpus ?? []) {
            const v = value(gpu);
            if (v === null) continue;
            const labels = { run, gpu: String(gpu.index) };
            this.set(gpu.node ? { ...labels, node: gpu.node } : labels, v);
          }
        }
      },
    });
  gpuGauge("trainops_gpu_memory_used_bytes", "GPU memory in use", (g) =>
    g.memoryUsedMiB === null ? null : g.memoryUsedMiB * 2 ** 20,
  );
  gpuGauge("trainops_gpu_memory_total_bytes", "GPU memory", (g) =>
    g.memoryTotalMiB === null ? null : g.memoryTotalMiB * 2 ** 20,
  );
  gpuGauge("trainops_gpu_utilization_ratio", "GPU utilisation, 0-1", (g) =>
    g.utilizationPercent === null ? null : g.utilizationPercent / 100,
  );
  new Gauge({
    name: "trainops_alerts_firing",
    help: "Alerts firing for the run",
    labelNames: ["run"],
    registers: [registry],
    collect() {
      this.reset();
      for (const run of source.runs()) this.set({ run }, source.firingAlerts(run));
    },
  });
  new Gauge({
    name: "trainops_phase",
    help: "Current phase of the run's plan (0 = baseline)",
    labelNames: ["run"],
    registers: [registry],
    collect() {
      this.reset();
      for (const run of source.runs()) {
        const phase = source.phase(run);
        if (phase !== null) this.set({ run }, phase);
      }
    },
  });
  return registry;
}
