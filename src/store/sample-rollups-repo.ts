import type { Db } from "./database.ts";
import { PRUNE_ROWS_PER_CALL, RunTimePruner } from "./run-time-pruner.ts";
import { SAMPLE_METRICS, type SampleMetric } from "./sample-metrics.ts";
import { type BucketSums, bucketSumsSql, toBucketSums } from "./series-buckets.ts";

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/**
 * Raw samples past the raw window, rolled up per minute (`samples_1m`) and per hour
 * (`samples_1h`): each row keeps the highest step, the other metrics' averages and how many
 * samples it stands for, so averages over longer buckets stay exact.
 */
export class SampleRollupsRepo {
  private readonly minutes: RunTimePruner;
  private readonly hours: RunTimePruner;

  constructor(private readonly db: Db) {
    this.minutes = new RunTimePruner(db, "samples_1m");
    this.hours = new RunTimePruner(db, "samples_1h");
  }

  /**
   * Rolls a run's raw samples older than `cutoff` up into per-minute and per-hour rows and
   * deletes them, whole hours at a time and at most `maxHours` per call, so a call is short
   * however far behind it is (the next call goes on). Samples older than `since` are left to
   * retention, which deletes them anyway. Returns how many raw samples it rolled up.
   */
  rollUp(run: string, cutoff: number, maxHours = 24, since = 0): number {
    const oldest = (
      this.db
        .prepare("SELECT MIN(at) AS at FROM samples WHERE run = ? AND at >= ?")
        .get(run, since) as { at: number | null }
    ).at;
    const end = Math.floor(cutoff / HOUR_MS) * HOUR_MS;
    if (oldest === null || oldest >= end) return 0;
    const start = Math.floor(oldest / HOUR_MS) * HOUR_MS;
    const until = Math.min(end, start + maxHours * HOUR_MS);
    const summary = (table: string, bucketMs: number) =>
      `INSERT OR REPLACE INTO ${table} (run, at, n, ${SAMPLE_METRICS.join(", ")})
       SELECT run, (at / ${bucketMs}) * ${bucketMs} AS bucket, COUNT(*), MAX(step),
         ${SAMPLE_METRICS.slice(1)
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

  /**
   * A run's roll-ups with `from <= at < to` summed per bucket of `width` ms from `from` (see
   * {@link bucketSumsSql}), at the resolution such buckets want: the hourly rows for buckets of
   * an hour or more, else the per-minute ones. `metrics` must be checked names (they are
   * columns).
   */
  bucketSums(
    run: string,
    metrics: readonly SampleMetric[],
    from: number,
    to: number,
    width: number,
  ): BucketSums[] {
    const table = width >= HOUR_MS ? "samples_1h" : "samples_1m";
    const rows = this.db
      .prepare(bucketSumsSql(table, metrics, "n"))
      .raw(true)
      .all(from, width, run, from, to) as Array<Array<number | null>>;
    return toBucketSums(rows, metrics.length);
  }

  /** Time of a run's oldest roll-up row, or null when it has none. */
  firstAt(run: string): number | null {
    const row = this.db
      .prepare(
        `SELECT MIN(at) AS at FROM (
           SELECT MIN(at) AS at FROM samples_1h WHERE run = ?
           UNION ALL SELECT MIN(at) FROM samples_1m WHERE run = ?)`,
      )
      .get(run, run) as { at: number | null };
    return row.at;
  }

  /**
   * Deletes roll-up rows older than `before` (retention), the oldest first, at most `limit` of
   * each table a call (the next call goes on); returns how many went.
   */
  prune(before: number, limit = PRUNE_ROWS_PER_CALL): number {
    return this.minutes.prune(before, limit) + this.hours.prune(before, limit);
  }
}
