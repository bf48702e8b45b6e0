import type { GpuSample, RunSample } from "../monitors/types.ts";
import type { Db } from "./database.ts";

interface SampleRow {
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

/** One point of a metric series, for charts and criteria. */
export interface SeriesPoint {
  at: number;
  value: number;
}

/** Metrics a series can be read for. */
export type SampleMetric =
  | "step"
  | "step_time_s"
  | "steps_per_hour"
  | "gpu_mem_used_mib"
  | "gpu_util_pct"
  | "host_used_bytes"
  | "workers_rss_bytes";

const METRIC_COLUMNS: ReadonlySet<string> = new Set<SampleMetric>([
  "step",
  "step_time_s",
  "steps_per_hour",
  "gpu_mem_used_mib",
  "gpu_util_pct",
  "host_used_bytes",
  "workers_rss_bytes",
]);

/** Time series of run samples (one row per poll per run). */
export class SamplesRepo {
  constructor(private readonly db: Db) {}

  private insertStatement: ReturnType<Db["prepare"]> | null = null;

  /** Stores one sample. GPU aggregates: the busiest GPU's memory and the mean utilisation. */
  insert(sample: RunSample): void {
    this.statement().run(...toRow(sample));
  }

  /** Stores many samples in one transaction (backfills, benchmarks); returns how many. */
  insertMany(samples: Iterable<RunSample>): number {
    const statement = this.statement();
    return this.db.transaction(() => {
      let n = 0;
      for (const sample of samples) {
        statement.run(...toRow(sample));
        n++;
      }
      return n;
    })();
  }

  private statement(): ReturnType<Db["prepare"]> {
    this.insertStatement ??= this.db.prepare(
      `INSERT INTO samples (run, at, reachable, alive, step, total_steps, epoch, loss, step_time_s,
        steps_per_hour, eta_s, epoch_eta_s, gpu_mem_used_mib, gpu_mem_total_mib, gpu_util_pct,
        host_used_bytes, host_total_bytes, workers_count, workers_rss_bytes, trainer_rss_bytes,
        disk_free_bytes, gpus_json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    return this.insertStatement;
  }

  /** The newest sample of a run, or null. */
  latest(run: string): RunSample | null {
    const row = this.db
      .prepare("SELECT * FROM samples WHERE run = ? ORDER BY at DESC, id DESC LIMIT 1")
      .get(run) as SampleRow | undefined;
    return row ? toSample(row) : null;
  }

  /** The newest reachable sample of a run, or null. */
  latestReachable(run: string): RunSample | null {
    const row = this.db
      .prepare(
        "SELECT * FROM samples WHERE run = ? AND reachable = 1 ORDER BY at DESC, id DESC LIMIT 1",
      )
      .get(run) as SampleRow | undefined;
    return row ? toSample(row) : null;
  }

  /** Samples of a run with `from <= at < to`, oldest first. */
  range(run: string, from: number, to: number): RunSample[] {
    const rows = this.db
      .prepare("SELECT * FROM samples WHERE run = ? AND at >= ? AND at < ? ORDER BY at, id")
      .all(run, from, to) as SampleRow[];
    return rows.map(toSample);
  }

  /**
   * One metric over a window, averaged into at most `buckets` points so a chart of 30 days
   * reads a few hundred rows' worth of output, not a hundred thousand.
   */
  series(
    run: string,
    metric: SampleMetric,
    from: number,
    to: number,
    buckets = 300,
  ): SeriesPoint[] {
    if (!METRIC_COLUMNS.has(metric)) throw new Error(`unknown metric ${metric}`);
    const width = Math.max(1, Math.ceil((to - from) / buckets));
    return this.db
      .prepare(
        `SELECT MIN(at) AS at, AVG(${metric}) AS value FROM samples
         WHERE run = ? AND at >= ? AND at < ? AND ${metric} IS NOT NULL
         GROUP BY (at - ?) / ? ORDER BY 1`,
      )
      .all(run, from, to, from, width) as SeriesPoint[];
  }

  /** Deletes samples older than `before`; returns how many went. */
  prune(before: number): number {
    return this.db.prepare("DELETE FROM samples WHERE at < ?").run(before).changes;
  }
}

/** The INSERT parameters of a sample, in column order. */
function toRow(sample: RunSample): unknown[] {
  const used = sample.gpus.map((g) => g.memoryUsedMiB).filter((v): v is number => v !== null);
  const total = sample.gpus.map((g) => g.memoryTotalMiB).filter((v): v is number => v !== null);
  const util = sample.gpus.map((g) => g.utilizationPercent).filter((v): v is number => v !== null);
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
    used.length ? Math.max(...used) : null,
    total.length ? Math.max(...total) : null,
    util.length ? util.reduce((a, b) => a + b, 0) / util.length : null,
    sample.hostMemory?.usedBytes ?? null,
    sample.hostMemory?.totalBytes ?? null,
    sample.workers?.count ?? null,
    sample.workers?.rssBytes ?? null,
    sample.trainerRssBytes,
    sample.diskFreeBytes,
    JSON.stringify(sample.gpus),
  ];
}

function toSample(row: SampleRow): RunSample {
  return {
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
    etaSeconds: row.eta_s,
    epochEtaSeconds: row.epoch_eta_s,
    gpus: JSON.parse(row.gpus_json) as GpuSample[],
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
  };
}
