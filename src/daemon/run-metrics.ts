import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { GpuSample, RunSample } from "../model/monitoring.ts";
import { buildInfo } from "./build-info.ts";

/** Poll outcomes counted as errors: the VM was not reached, or the probe failed on it. */
const POLL_ERRORS = ["unreachable", "error"] as const;

/** A firing alert as the metrics count it. */
export interface FiringRule {
  rule: string;
  severity: string;
}

/** What the metrics read on each scrape; all from the store, so a scrape never touches a VM. */
export interface MetricsSource {
  runs(): string[];
  /** The newest sample, reachable or not. */
  latest(run: string): RunSample | null;
  /** When the newest poll that reached the VM was taken (ms), or null. */
  lastReachableAt(run: string): number | null;
  firing(run: string): FiringRule[];
  /** Every enabled rule with its configured severity: each gets a series, 0 while quiet. */
  rules(): FiringRule[];
  /** Index of the current phase (0 = baseline), or null without a plan. */
  phase(run: string): number | null;
  /** The run's host, as the DCGM exporter's `Hostname` label names it. */
  node(run: string): string;
  /** Deliveries still owed, per alert sink. */
  outboxDepth(): Map<string, number>;
}

/** The daemon's own activity, counted as it happens (polls, follow streams). */
export interface DaemonMetrics {
  /** A poll ended after `seconds`; `outcome` is "ok" or why it failed. */
  pollDone(run: string, seconds: number, outcome: string): void;
  /** A run's follow stream failed and is being reopened. */
  followReconnected(run: string): void;
}

/** The registry `/metrics` serves plus the recorder the daemon reports its activity to. */
export interface Metrics {
  registry: Registry;
  daemon: DaemonMetrics;
}

/** Options of {@link createRunMetrics}. */
export interface RunMetricsOptions {
  /** Also export Node's default process metrics (default true). */
  processMetrics?: boolean;
}

/**
 * The Prometheus metrics, named by the book: base units (seconds, bytes, ratios, per second),
 * counters ending in `_total`, `trainops_build_info`, Node's process metrics. Per-run gauges
 * carry `run`; GPU gauges also `gpu`, `UUID` and `Hostname` as the DCGM exporter names them,
 * so the two join. A run whose last poll failed exports `trainops_run_up 0` and no sample
 * figures: a graph shows a gap instead of the last values frozen.
 */
export function createRunMetrics(source: MetricsSource, options: RunMetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  new Gauge({
    name: "trainops_build_info",
    help: "Always 1; labels say which trainops and Node.js are running",
    labelNames: ["version", "nodejs_version"],
    registers: [registry],
  }).set({ version: buildInfo().version, nodejs_version: process.version }, 1);

  /** The run's newest sample when that poll reached the VM; null otherwise. */
  const current = (run: string): RunSample | null => {
    const sample = source.latest(run);
    return sample?.reachable ? sample : null;
  };

  new Gauge({
    name: "trainops_run_up",
    help: "1 when the run's last poll reached its VM, 0 when it failed",
    labelNames: ["run"],
    registers: [registry],
    collect() {
      this.reset();
      for (const run of source.runs()) {
        const sample = source.latest(run);
        if (sample) this.set({ run }, sample.reachable ? 1 : 0);
      }
    },
  });

  const runGauge = (
    name: string,
    help: string,
    value: (s: RunSample) => number | null | undefined,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ["run"],
      registers: [registry],
      collect() {
        this.reset();
        for (const run of source.runs()) {
          const sample = current(run);
          const v = sample ? value(sample) : null;
          if (v !== null && v !== undefined && Number.isFinite(v)) this.set({ run }, v);
        }
      },
    });
  runGauge(
    "trainops_alive",
    "1 when the training process runs (absent while the VM is unreachable)",
    (s) => (s.alive === null ? null : s.alive ? 1 : 0),
  );
  runGauge("trainops_step", "Last training step seen in the log", (s) => s.step);
  runGauge(
    "trainops_total_steps",
    "Steps in the whole training (perEpoch x epochs)",
    (s) => s.totalSteps,
  );
  runGauge("trainops_epoch", "Current epoch as the log says it", (s) => s.epoch);
  runGauge("trainops_loss", "Last training loss in the log", (s) => s.loss);
  runGauge("trainops_step_time_seconds", "Seconds per training step", (s) => s.stepTimeSeconds);
  runGauge("trainops_steps_per_second", "Training steps per second (recent rate)", (s) =>
    s.stepsPerHour === null ? null : s.stepsPerHour / 3600,
  );
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
    "Summed resident memory of the data-loader workers",
    (s) => s.workers?.rssBytes,
  );
  runGauge(
    "trainops_trainer_rss_bytes",
    "Resident memory of the training process",
    (s) => s.trainerRssBytes,
  );
  runGauge(
    "trainops_disk_free_bytes",
    "Free space on the run's working directory's file system",
    (s) => s.diskFreeBytes,
  );

  const gpuGauge = (name: string, help: string, value: (g: GpuSample) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ["run", "gpu", "UUID", "Hostname"],
      registers: [registry],
      collect() {
        this.reset();
        for (const run of source.runs()) {
          const sample = current(run);
          if (!sample) continue;
          const Hostname = source.node(run);
          for (const gpu of sample.gpus) {
            const v = value(gpu);
            if (v === null) continue;
            this.set({ run, gpu: String(gpu.index), UUID: gpu.uuid ?? "", Hostname }, v);
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
  gpuGauge("trainops_gpu_temperature_celsius", "GPU temperature", (g) => g.temperatureC);
  gpuGauge("trainops_gpu_power_watts", "GPU power draw", (g) => g.powerW);

  new Gauge({
    name: "trainops_alerts_firing",
    help: "Alerts firing (not silenced), by run, rule and severity; 0 for every quiet rule",
    labelNames: ["run", "rule", "severity"],
    registers: [registry],
    collect() {
      this.reset();
      const rules = source.rules();
      for (const run of source.runs()) {
        for (const rule of rules) this.set({ run, rule: rule.rule, severity: rule.severity }, 0);
        for (const alert of source.firing(run)) {
          this.inc({ run, rule: alert.rule, severity: alert.severity });
        }
      }
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
  new Gauge({
    name: "trainops_last_successful_poll_timestamp_seconds",
    help: "Unix time of the run's newest poll that reached its VM",
    labelNames: ["run"],
    registers: [registry],
    collect() {
      this.reset();
      for (const run of source.runs()) {
        const at = source.lastReachableAt(run);
        if (at !== null) this.set({ run }, at / 1000);
      }
    },
  });
  new Gauge({
    name: "trainops_outbox_depth",
    help: "Alert deliveries still owed, by sink",
    labelNames: ["sink"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [sink, depth] of source.outboxDepth()) this.set({ sink }, depth);
    },
  });

  const pollSeconds = new Histogram({
    name: "trainops_poll_duration_seconds",
    help: "How long one poll of a run took (probe over SSH and storing)",
    labelNames: ["run"],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const polls = new Counter({
    name: "trainops_polls_total",
    help: "Polls made, by run",
    labelNames: ["run"],
    registers: [registry],
  });
  const pollErrors = new Counter({
    name: "trainops_poll_errors_total",
    help: "Polls that failed, by run and outcome",
    labelNames: ["run", "outcome"],
    registers: [registry],
  });
  const reconnects = new Counter({
    name: "trainops_follow_reconnects_total",
    help: "Times a run's log follow stream failed and was reopened",
    labelNames: ["run"],
    registers: [registry],
  });
  // Every series exists from the start (at 0), so rate() and increase() see the first event.
  for (const run of source.runs()) {
    polls.inc({ run }, 0);
    for (const outcome of POLL_ERRORS) pollErrors.inc({ run, outcome }, 0);
    reconnects.inc({ run }, 0);
    pollSeconds.zero({ run });
  }
  return {
    registry,
    daemon: {
      pollDone(run, seconds, outcome) {
        polls.inc({ run });
        pollSeconds.observe({ run }, seconds);
        if ((POLL_ERRORS as readonly string[]).includes(outcome)) pollErrors.inc({ run, outcome });
      },
      followReconnected(run) {
        reconnects.inc({ run });
      },
    },
  };
}
