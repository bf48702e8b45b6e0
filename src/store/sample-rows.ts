import type { GpuSample, RunSample } from "../model/monitoring.ts";
import { type GpuIdentity, packGpuFigures, unpackGpus } from "./sample-gpus.ts";
import { metricValues } from "./sample-metrics.ts";

/** A `samples` row as SQLite returns it. */
export interface SampleRow {
  run: string;
  at: number;
  reachable: number;
  alive: number | null;
  step: number | null;
  total_steps: number | null;
  epoch: number | null;
  loss: number | null;
  step_time_s: number | null;
  steps_per_hour: number | null;
  step_time_observed: number | null;
  eta_s: number | null;
  epoch_eta_s: number | null;
  host_used_bytes: number | null;
  host_total_bytes: number | null;
  workers_count: number | null;
  workers_rss_bytes: number | null;
  trainer_rss_bytes: number | null;
  disk_free_bytes: number | null;
  gpus_json: string;
}

/** The INSERT of a sample row; {@link sampleParameters} gives its values in this order. */
export const INSERT_SAMPLE_SQL = `INSERT INTO samples (run, at, reachable, alive, step, total_steps, epoch, loss, step_time_s,
        steps_per_hour, eta_s, epoch_eta_s, gpu_mem_used_mib, gpu_mem_total_mib, gpu_util_pct,
        host_used_bytes, host_total_bytes, workers_count, workers_rss_bytes, trainer_rss_bytes,
        disk_free_bytes, gpus_json, step_time_observed)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/**
 * The parameters of {@link INSERT_SAMPLE_SQL} for a sample, in column order. GPU aggregates:
 * the busiest GPU's memory and the mean utilisation; the GPUs themselves as their figures (what
 * names them is stored apart, once per run).
 */
export function sampleParameters(sample: RunSample): unknown[] {
  const values = metricValues(sample);
  const total = sample.gpus.map((g) => g.memoryTotalMiB).filter((v): v is number => v !== null);
  return [
    sample.run,
    sample.at,
    sample.reachable ? 1 : 0,
    sample.alive === null ? null : sample.alive ? 1 : 0,
    sample.step,
    sample.totalSteps,
    sample.epoch,
    sample.loss,
    sample.stepTimeSeconds,
    sample.stepsPerHour,
    sample.etaSeconds,
    sample.epochEtaSeconds,
    values.gpu_mem_used_mib,
    total.length ? Math.max(...total) : null,
    values.gpu_util_pct,
    sample.hostMemory?.usedBytes ?? null,
    sample.hostMemory?.totalBytes ?? null,
    sample.workers?.count ?? null,
    sample.workers?.rssBytes ?? null,
    sample.trainerRssBytes,
    sample.diskFreeBytes,
    packGpuFigures(sample.gpus),
    sample.stepTimeObserved === undefined ? null : sample.stepTimeObserved ? 1 : 0,
  ];
}

/**
 * A row back as a sample, its GPUs named by the run's `identities`. The GPUs are decoded when
 * first read: the rules read a day of samples at every evaluation and most of them never look
 * at the GPUs.
 */
export function rowToSample(row: SampleRow, identities: readonly GpuIdentity[]): RunSample {
  const sample = {
    run: row.run,
    at: row.at,
    reachable: row.reachable === 1,
    alive: row.alive === null ? null : row.alive === 1,
    step: row.step,
    totalSteps: row.total_steps,
    epoch: row.epoch,
    loss: row.loss,
    stepTimeSeconds: row.step_time_s,
    stepsPerHour: row.steps_per_hour,
    ...(row.step_time_observed !== null ? { stepTimeObserved: row.step_time_observed === 1 } : {}),
    etaSeconds: row.eta_s,
    epochEtaSeconds: row.epoch_eta_s,
    hostMemory:
      row.host_used_bytes === null || row.host_total_bytes === null
        ? null
        : { usedBytes: row.host_used_bytes, totalBytes: row.host_total_bytes },
    workers:
      row.workers_count === null
        ? null
        : { count: row.workers_count, rssBytes: row.workers_rss_bytes ?? 0 },
    trainerRssBytes: row.trainer_rss_bytes,
    diskFreeBytes: row.disk_free_bytes,
  } as RunSample;
  let gpus: GpuSample[] | null = null;
  Object.defineProperty(sample, "gpus", {
    enumerable: true,
    configurable: true,
    get: () => {
      gpus ??= unpackGpus(row.gpus_json, identities);
      return gpus;
    },
    set: (value: GpuSample[]) => {
      gpus = value;
    },
  });
  return sample;
}
