import type { Statement } from "better-sqlite3";
import type { RunSample } from "../model/monitoring.ts";
import type { Db } from "./database.ts";
import { GpuIdentitiesRepo } from "./gpu-identities-repo.ts";
import { LatestSamplesRepo } from "./latest-samples-repo.ts";
import { PRUNE_ROWS_PER_CALL, RunTimePruner } from "./run-time-pruner.ts";
import type { GpuIdentity } from "./sample-gpus.ts";
import { changesState, keepsSample } from "./sample-keeping.ts";
import {
  isSampleMetric,
  metricValues,
  type SampleMetric,
  type SeriesPoint,
} from "./sample-metrics.ts";
import { SampleRollupsRepo } from "./sample-rollups-repo.ts";
import { INSERT_SAMPLE_SQL, rowToSample, type SampleRow, sampleParameters } from "./sample-rows.ts";
import { bucketSumsSql, seriesFromBuckets, toBucketSums } from "./series-buckets.ts";

/** Where a reader of the history stands: the last sample it read (by time, then row id). */
export interface SamplePosition {
  at: number;
  id: number;
}

/**
 * Time series of run samples: the newest of each run (always, in {@link LatestSamplesRepo}), a
 * history of at most one per `sampleEvery` plus every change of state for the raw window (see
 * `record`), then the per-minute and per-hour roll-ups charts read past it
 * ({@link SampleRollupsRepo}). Every read sees the newest sample, kept or not.
 */
export class SamplesRepo {
  private readonly newest: LatestSamplesRepo;
  private readonly gpus: GpuIdentitiesRepo;
  private readonly rollups: SampleRollupsRepo;
  private readonly history: RunTimePruner;

  constructor(private readonly db: Db) {
    this.history = new RunTimePruner(db, "samples");
    this.newest = new LatestSamplesRepo(db);
    this.gpus = new GpuIdentitiesRepo(db);
    this.rollups = new SampleRollupsRepo(db);
  }

  private insertStatement: Statement<unknown[]> | null = null;
  private afterStatement: Statement<unknown[]> | null = null;

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
      const slot = this.newest.get(sample.run);
      const keep = keepsSample({
        previous: slot?.sample ?? null,
        next: sample,
        lastKeptAt: this.lastKeptAt(sample.run),
        everyMs: keepEveryMs,
      });
      if (keep && slot && !slot.kept && changesState(slot.sample, sample)) this.insert(slot.sample);
      if (keep) this.insert(sample);
      this.newest.put(sample, keep);
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

  /** The newest sample of a run only `samples_latest` holds, if it falls in `from <= at < to`. */
  private unkept(run: string, from: number, to: number): RunSample | null {
    const slot = this.newest.get(run);
    return slot && !slot.kept && slot.at >= from && slot.at < to ? slot.sample : null;
  }

  private lastKeptAt(run: string): number | null {
    return (
      this.db.prepare("SELECT MAX(at) AS at FROM samples WHERE run = ?").get(run) as {
        at: number | null;
      }
    ).at;
  }

  private statement(): Statement<unknown[]> {
    this.insertStatement ??= this.db.prepare<unknown[]>(INSERT_SAMPLE_SQL);
    return this.insertStatement;
  }

  /** The newest sample of a run, or null. */
  latest(run: string): RunSample | null {
    const slot = this.newest.get(run);
    const row = this.db
      .prepare("SELECT * FROM samples WHERE run = ? ORDER BY at DESC, id DESC LIMIT 1")
      .get(run) as SampleRow | undefined;
    if (slot && (!row || slot.at >= row.at)) return slot.sample;
    return row ? rowToSample(row, this.gpus.forRun(run)) : null;
  }

  /** The newest reachable sample of a run, or null. */
  latestReachable(run: string): RunSample | null {
    const slot = this.newest.get(run);
    const row = this.db
      .prepare(
        "SELECT * FROM samples WHERE run = ? AND reachable = 1 ORDER BY at DESC, id DESC LIMIT 1",
      )
      .get(run) as SampleRow | undefined;
    if (slot?.sample.reachable && (!row || slot.at >= row.at)) return slot.sample;
    return row ? rowToSample(row, this.gpus.forRun(run)) : null;
  }

  /** Samples of a run with `from <= at < to`, oldest first (the newest one, kept or not). */
  range(run: string, from: number, to: number): RunSample[] {
    const rows = this.db
      .prepare("SELECT * FROM samples WHERE run = ? AND at >= ? AND at < ? ORDER BY at, id")
      .all(run, from, to) as SampleRow[];
    const identities = rows.length > 0 ? this.gpus.forRun(run) : [];
    const samples = rows.map((row) => rowToSample(row, identities));
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
   * Visits the stored samples of a run after `after` (in `at`, then `id` order) up to `to`
   * (inclusive), oldest first, one at a time: a reader that keeps what it needs of each (the
   * alert rules' facts) holds no window of them. Returns the position of the last one visited
   * (`after` when none), to go on from next time.
   */
  forEachAfter(
    run: string,
    after: SamplePosition,
    to: number,
    visit: (sample: RunSample) => void,
  ): SamplePosition {
    this.afterStatement ??= this.db.prepare(
      `SELECT * FROM samples WHERE run = ? AND at >= ? AND at <= ? AND NOT (at = ? AND id <= ?)
       ORDER BY at, id`,
    );
    let last = after;
    let identities: GpuIdentity[] | null = null;
    for (const row of this.afterStatement.iterate(
      run,
      after.at,
      to,
      after.at,
      after.id,
    ) as Iterable<SampleRow & { id: number }>) {
      identities ??= this.gpus.forRun(run);
      visit(rowToSample(row, identities));
      last = { at: row.at, id: row.id };
    }
    return last;
  }

  /** The newest sample of a run when only `samples_latest` holds it (not kept in the history). */
  newestUnkept(run: string): RunSample | null {
    const slot = this.newest.get(run);
    return slot && !slot.kept ? slot.sample : null;
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
      if (!isSampleMetric(metric)) throw new Error(`unknown metric ${metric}`);
    }
    if (!metrics.length) return {};
    const width = Math.max(1, Math.ceil((to - from) / buckets));
    // Rolled-up rows are all older than the raw samples left (rolling up deletes what it
    // summarised); a bucket that straddles both adds their sums, each roll-up row weighing as
    // many samples as it stands for.
    const rolled = this.rollups.bucketSums(run, metrics, from, to, width);
    const raw = toBucketSums(
      this.db
        .prepare(bucketSumsSql("samples", metrics, null))
        .raw(true)
        .all(from, width, run, from, to) as Array<Array<number | null>>,
      metrics.length,
    );
    const sources = [rolled, raw];
    const newest = this.unkept(run, from, to);
    if (newest) {
      const values = metricValues(newest);
      sources.push([
        {
          bucket: Math.floor((newest.at - from) / width),
          start: newest.at,
          sums: metrics.map((metric) => values[metric] ?? 0),
          counts: metrics.map((metric) => (values[metric] === null ? 0 : 1)),
        },
      ]);
    }
    return seriesFromBuckets(sources, metrics);
  }

  /** Time of a run's oldest sample (raw or rolled up), or null when it has none. */
  firstAt(run: string): number | null {
    const raw = (
      this.db.prepare("SELECT MIN(at) AS at FROM samples WHERE run = ?").get(run) as {
        at: number | null;
      }
    ).at;
    const rolled = this.rollups.firstAt(run);
    if (raw === null) return rolled;
    return rolled === null ? raw : Math.min(raw, rolled);
  }

  /**
   * Deletes raw samples older than `before` (the oldest first, at most `limit` a call: the next
   * call goes on) and the newest sample of runs last sampled before it; returns how many raw
   * samples went. The roll-ups go by {@link SampleRollupsRepo.prune}.
   */
  prune(before: number, limit = PRUNE_ROWS_PER_CALL): number {
    this.newest.prune(before);
    return this.history.prune(before, limit);
  }

  /** The runs the history holds samples of. */
  runs(): string[] {
    return this.history.runs();
  }

  /** The INSERT parameters of a sample, in column order (its GPUs' identities saved apart). */
  private toRow(sample: RunSample): unknown[] {
    this.gpus.save(sample.run, sample.gpus);
    return sampleParameters(sample);
  }
}
