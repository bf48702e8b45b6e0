import type { Statement } from "better-sqlite3";
import type { GpuSample, RunSample } from "../model/monitoring.ts";
import type { Db } from "./database.ts";
import { type GpuIdentity, gpuIdentities, packGpuFigures, unpackGpus } from "./sample-gpus.ts";
import { changesState, keepsSample } from "./sample-keeping.ts";

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
  | "workers_rss_bytes"
  | "loss";

const METRIC_COLUMNS: ReadonlySet<string> = new Set<SampleMetric>([
  "step",
  "step_time_s",
  "steps_per_hour",
  "gpu_mem_used_mib",
  "gpu_util_pct",
  "host_used_bytes",
  "workers_rss_bytes",
  "loss",
]);

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/** What a roll-up row keeps of its samples: the highest step, the other metrics' averages. */
const ROLLUP_COLUMNS = [
  "step",
  "step_time_s",
  "steps_per_hour",
  "gpu_mem_used_mib",
  "gpu_util_pct",
  "host_used_bytes",
  "workers_rss_bytes",
  "loss",
] as const;

/** The newest sample of a run as `samples_latest` holds it. */
interface LatestSlot {
  at: number;
  /** Also stored in `samples` (the history). */
  kept: boolean;
  sample: RunSample;
}

/**
 * Time series of run samples: the newest of each run (always), a history of at most one per
 * `sampleEvery` plus every change of state for the raw window (see `record`), then per-minute
 * and per-hour roll-ups (see `rollUp`). Every read sees the newest sample, kept or not.
 */
export class SamplesRepo {
  constructor(private readonly db: Db) {}

  private insertStatement: Statement<unknown[]> | null = null;
  /** The last window `slidingRange` read per run, with the newest row id it had. */
  private readonly windows = new Map<
    string,
    { from: number; to: number; lastId: number; rows: RunSample[]; identities: GpuIdentity[] }
  >();
  /** The GPU identities last written per run, so an unchanged set is not written again. */
  private readonly identitiesWritten = new Map<string, string>();

  /**
   * Stores one sample in the history. GPU aggregates: the busiest GPU's memory and the mean
   * utilisation.
   */
  insert(sample: RunSample): void {
    this.statement().run(...this.toRow(sample));
  }

  /**
   * Records a poll's sample: it becomes the run's newest (what status and the rules read), and
   * joins the stored history when `keepEveryMs` has passed since the last one kept, or when it
   * changes the run's state (reachable, alive, a step going back: the sample before it is kept
   * too, so every edge is exact), or when the VM did not answer (each failed poll counts).
   * `keepEveryMs` 0 keeps every sample. Returns whether it joined the history.
   */
  record(sample: RunSample, keepEveryMs: number): boolean {
    return this.db.transaction(() => {
      const slot = this.slot(sample.run);
      const keep = keepsSample({
        previous: slot?.sample ?? null,
        next: sample,
        lastKeptAt: this.lastKeptAt(sample.run),
        everyMs: keepEveryMs,
      });
      if (keep && slot && !slot.kept && changesState(slot.sample, sample)) this.insert(slot.sample);
      if (keep) this.insert(sample);
      this.db
        .prepare(
          `INSERT INTO samples_latest (run, at, kept, sample_json) VALUES (?, ?, ?, ?)
           ON CONFLICT (run) DO UPDATE SET at = excluded.at, kept = excluded.kept,
             sample_json = excluded.sample_json`,
        )
        .run(sample.run, sample.at, keep ? 1 : 0, JSON.stringify(sample));
      return keep;
    })();
  }

  /** Stores many samples in one transaction (backfills, benchmarks); returns how many. */
  insertMany(samples: Iterable<RunSample>): number {
    const statement = this.statement();
    return this.db.transaction(() => {
      let n = 0;
      for (const sample of samples) {
        statement.run(...this.toRow(sample));
        n++;
      }
      return n;
    })();
  }

  /** The newest sample `record` saw for a run, kept in the history or not. */
  private slot(run: string): LatestSlot | null {
    const row = this.db
      .prepare("SELECT at, kept, sample_json FROM samples_latest WHERE run = ?")
      .get(run) as { at: number; kept: number; sample_json: string } | undefined;
    if (!row) return null;
    return { at: row.at, kept: row.kept === 1, sample: JSON.parse(row.sample_json) as RunSample };
  }

  /** The newest sample of a run only `samples_latest` holds, if it falls in `from <= at < to`. */
  private unkept(run: string, from: number, to: number): RunSample | null {
    const slot = this.slot(run);
    return slot && !slot.kept && slot.at >= from && slot.at < to ? slot.sample : null;
  }

  private lastKeptAt(run: string): number | null {
    return (
      this.db.prepare("SELECT MAX(at) AS at FROM samples WHERE run = ?").get(run) as {
        at: number | null;
      }
    ).at;
  }

  /** The GPU identities of a run's history rows, by position. */
  private identities(run: string): GpuIdentity[] {
    return (
      this.db
        .prepare("SELECT identity_json FROM sample_gpus WHERE run = ? ORDER BY ordinal")
        .all(run) as Array<{ identity_json: string }>
    ).map((r) => JSON.parse(r.identity_json) as GpuIdentity);
  }

  /** Writes what names each GPU of a run when it differs from what was written last. */
  private saveIdentities(run: string, gpus: RunSample["gpus"]): void {
    if (gpus.length === 0) return;
    const identities = gpuIdentities(gpus);
    const key = identities.join("\n");
    if (this.identitiesWritten.get(run) === key) return;
    const upsert = this.db.prepare(
      `INSERT INTO sample_gpus (run, ordinal, identity_json) VALUES (?, ?, ?)
       ON CONFLICT (run, ordinal) DO UPDATE SET identity_json = excluded.identity_json
       WHERE identity_json != excluded.identity_json`,
    );
    for (const [ordinal, identity] of identities.entries()) upsert.run(run, ordinal, identity);
    this.identitiesWritten.set(run, key);
  }

  private statement(): Statement<unknown[]> {
    this.insertStatement ??= this.db.prepare<unknown[]>(
      `INSERT INTO samples (run, at, reachable, alive, step, total_steps, epoch, loss, step_time_s,
        steps_per_hour, eta_s, epoch_eta_s, gpu_mem_used_mib, gpu_mem_total_mib, gpu_util_pct,
        host_used_bytes, host_total_bytes, workers_count, workers_rss_bytes, trainer_rss_bytes,
        disk_free_bytes, gpus_json, step_time_observed)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    return this.insertStatement;
  }

  /** The newest sample of a run, or null. */
  latest(run: string): RunSample | null {
    const slot = this.slot(run);
    const row = this.db
      .prepare("SELECT * FROM samples WHERE run = ? ORDER BY at DESC, id DESC LIMIT 1")
      .get(run) as SampleRow | undefined;
    if (slot && (!row || slot.at >= row.at)) return slot.sample;
    return row ? toSample(row, this.identities(run)) : null;
  }

  /** The newest reachable sample of a run, or null. */
  latestReachable(run: string): RunSample | null {
    const slot = this.slot(run);
    const row = this.db
      .prepare(
        "SELECT * FROM samples WHERE run = ? AND reachable = 1 ORDER BY at DESC, id DESC LIMIT 1",
      )
      .get(run) as SampleRow | undefined;
    if (slot?.sample.reachable && (!row || slot.at >= row.at)) return slot.sample;
    return row ? toSample(row, this.identities(run)) : null;
  }

  /** Samples of a run with `from <= at < to`, oldest first (the newest one, kept or not). */
  range(run: string, from: number, to: number): RunSample[] {
    const rows = this.db
      .prepare("SELECT * FROM samples WHERE run = ? AND at >= ? AND at < ? ORDER BY at, id")
      .all(run, from, to) as SampleRow[];
    const identities = rows.length > 0 ? this.identities(run) : [];
    const samples = rows.map((row) => toSample(row, identities));
    const newest = this.unkept(run, from, to);
    if (newest) {
      samples.push(newest);
      if (samples.length > 1 && (samples.at(-2) as RunSample).at > newest.at) {
        samples.sort((a, b) => a.at - b.at);
      }
    }
    return samples;
  }

  /**
   * Samples of a run with `from <= at < to`, as `range` gives them, for a reader that asks for
   * a sliding window again and again (the alert rules read the last day at every evaluation):
   * the rows read last time are reused and only rows written since are read. Rows are checked
   * by count, so a window whose rows were deleted or back-filled meanwhile is read afresh. The
   * samples returned are shared between calls: read them, never change them.
   */
  slidingRange(run: string, from: number, to: number): RunSample[] {
    const stats = this.db
      .prepare(
        "SELECT COUNT(*) AS n, MAX(id) AS last FROM samples WHERE run = ? AND at >= ? AND at < ?",
      )
      .get(run, from, to) as { n: number; last: number | null };
    const cached = this.windows.get(run);
    let rows: RunSample[] | null = null;
    if (cached && cached.from <= from && cached.to <= to) {
      let start = 0;
      while (start < cached.rows.length && (cached.rows[start] as RunSample).at < from) start++;
      const fresh = (
        this.db
          .prepare(
            "SELECT * FROM samples WHERE id > ? AND run = ? AND at >= ? AND at < ? ORDER BY at, id",
          )
          .all(cached.lastId, run, from, to) as SampleRow[]
      ).map((row) => toSample(row, cached.identities));
      const kept = cached.rows.slice(start);
      const inOrder = kept.length === 0 || fresh.length === 0 || fresh[0]!.at >= kept.at(-1)!.at;
      if (inOrder && kept.length + fresh.length === stats.n) rows = kept.concat(fresh);
    }
    if (rows === null) {
      const identities = this.identities(run);
      rows = (
        this.db
          .prepare("SELECT * FROM samples WHERE run = ? AND at >= ? AND at < ? ORDER BY at, id")
          .all(run, from, to) as SampleRow[]
      ).map((row) => toSample(row, identities));
      this.windows.set(run, { from, to, lastId: stats.last ?? 0, rows, identities });
    } else {
      const identities = cached?.identities ?? [];
      this.windows.set(run, { from, to, lastId: stats.last ?? 0, rows, identities });
    }
    const newest = this.unkept(run, from, to);
    if (!newest) return rows;
    const out = rows.concat(newest);
    if (rows.length > 0 && rows.at(-1)!.at > newest.at) out.sort((a, b) => a.at - b.at);
    return out;
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
    return this.seriesMany(run, [metric], from, to, buckets)[metric] as SeriesPoint[];
  }

  /**
   * Several metrics over one window in a single pass (charts): the same buckets as `series`,
   * one list per metric, buckets where a metric has no value left out of its list.
   */
  seriesMany(
    run: string,
    metrics: readonly SampleMetric[],
    from: number,
    to: number,
    buckets = 300,
  ): Record<string, SeriesPoint[]> {
    for (const metric of metrics) {
      if (!METRIC_COLUMNS.has(metric)) throw new Error(`unknown metric ${metric}`);
    }
    const out: Record<string, SeriesPoint[]> = {};
    for (const metric of metrics) out[metric] = [];
    if (!metrics.length) return out;
    const width = Math.max(1, Math.ceil((to - from) / buckets));
    // Rows come in time order from the (run, at) keys, so buckets are summed in one pass here
    // instead of in a GROUP BY, which would sort every row of the window first. Rolled-up rows
    // are all older than the raw samples left (rolling up deletes what it summarised), so they
    // come first; each weighs as many samples as it stands for. Buckets of an hour or more read
    // the hourly rows.
    const rollup = width >= HOUR_MS ? "samples_1h" : "samples_1m";
    const columns = metrics.join(", ");
    const rolled = this.db
      .prepare(
        `SELECT at, n, ${columns} FROM ${rollup} WHERE run = ? AND at >= ? AND at < ? ORDER BY at`,
      )
      .raw(true);
    const statement = this.db
      .prepare(
        `SELECT at, 1, ${columns} FROM samples WHERE run = ? AND at >= ? AND at < ? ORDER BY at`,
      )
      .raw(true);
    const sums = new Float64Array(metrics.length);
    const counts = new Uint32Array(metrics.length);
    let bucket = -1;
    let bucketStart = 0;
    const flush = () => {
      metrics.forEach((metric, m) => {
        if (counts[m]) {
          (out[metric] as SeriesPoint[]).push({
            at: bucketStart,
            value: (sums[m] as number) / (counts[m] as number),
          });
        }
      });
      sums.fill(0);
      counts.fill(0);
    };
    const add = (row: Array<number | null>) => {
      const at = row[0] as number;
      const weight = row[1] as number;
      const b = Math.floor((at - from) / width);
      if (b !== bucket) {
        if (bucket >= 0) flush();
        bucket = b;
        bucketStart = at;
      }
      for (let m = 0; m < metrics.length; m++) {
        const value = row[m + 2];
        if (value !== null && value !== undefined) {
          sums[m] = (sums[m] as number) + value * weight;
          counts[m] = (counts[m] as number) + weight;
        }
      }
    };
    for (const row of rolled.iterate(run, from, to)) add(row as Array<number | null>);
    for (const row of statement.iterate(run, from, to)) add(row as Array<number | null>);
    const newest = this.unkept(run, from, to);
    if (newest) {
      const values = metricValues(newest);
      add([newest.at, 1, ...metrics.map((metric) => values[metric])]);
    }
    if (bucket >= 0) flush();
    return out;
  }

  /** Time of a run's oldest sample (raw or rolled up), or null when it has none. */
  firstAt(run: string): number | null {
    const row = this.db
      .prepare(
        `SELECT MIN(at) AS at FROM (
           SELECT MIN(at) AS at FROM samples_1h WHERE run = ?
           UNION ALL SELECT MIN(at) FROM samples_1m WHERE run = ?
           UNION ALL SELECT MIN(at) FROM samples WHERE run = ?)`,
      )
      .get(run, run, run) as { at: number | null };
    return row.at;
  }

  /** Deletes samples and roll-ups older than `before`; returns how many raw samples went. */
  prune(before: number): number {
    this.db.prepare("DELETE FROM samples_latest WHERE at < ?").run(before);
    this.db.prepare("DELETE FROM samples_1m WHERE at < ?").run(before);
    this.db.prepare("DELETE FROM samples_1h WHERE at < ?").run(before);
    return this.db.prepare("DELETE FROM samples WHERE at < ?").run(before).changes;
  }

  /**
   * Rolls a run's raw samples older than `cutoff` up into per-minute and per-hour rows and
   * deletes them, whole hours at a time and at most `maxHours` per call, so a call is short
   * however far behind it is (the next call goes on). Returns how many raw samples it rolled up.
   * Charts (`series`) read the roll-ups for what is no longer raw; `range` and `latest` see raw
   * samples only.
   */
  rollUp(run: string, cutoff: number, maxHours = 24): number {
    const oldest = (
      this.db.prepare("SELECT MIN(at) AS at FROM samples WHERE run = ?").get(run) as {
        at: number | null;
      }
    ).at;
    const end = Math.floor(cutoff / HOUR_MS) * HOUR_MS;
    if (oldest === null || oldest >= end) return 0;
    const start = Math.floor(oldest / HOUR_MS) * HOUR_MS;
    const until = Math.min(end, start + maxHours * HOUR_MS);
    const summary = (table: string, bucketMs: number) =>
      `INSERT OR REPLACE INTO ${table} (run, at, n, ${ROLLUP_COLUMNS.join(", ")})
       SELECT run, (at / ${bucketMs}) * ${bucketMs} AS bucket, COUNT(*), MAX(step),
         ${ROLLUP_COLUMNS.slice(1)
           .map((c) => `AVG(${c})`)
           .join(", ")}
       FROM samples WHERE run = ? AND at >= ? AND at < ? GROUP BY bucket`;
    return this.db.transaction(() => {
      this.db.prepare(summary("samples_1m", MINUTE_MS)).run(run, start, until);
      this.db.prepare(summary("samples_1h", HOUR_MS)).run(run, start, until);
      return this.db
        .prepare("DELETE FROM samples WHERE run = ? AND at >= ? AND at < ?")
        .run(run, start, until).changes;
    })();
  }

  /** The INSERT parameters of a sample, in column order (its GPUs' identities saved apart). */
  private toRow(sample: RunSample): unknown[] {
    this.saveIdentities(sample.run, sample.gpus);
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
}

/** The chartable metrics of a sample, as their columns hold them. */
function metricValues(sample: RunSample): Record<SampleMetric, number | null> {
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

/**
 * A row back as a sample. Its GPUs are decoded when first read: the rules read a day of
 * samples at every evaluation and most of them never look at the GPUs.
 */
function toSample(row: SampleRow, identities: readonly GpuIdentity[]): RunSample {
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
