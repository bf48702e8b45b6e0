import type { SampleMetric, SeriesPoint } from "./sample-metrics.ts";

/**
 * What one source (raw samples, a roll-up table, the newest sample) holds of one bucket of a
 * series: the bucket's index from the window's start, its first sample's time, and per metric
 * the sum of its values (each weighed by how many samples it stands for) and that weight.
 */
export interface BucketSums {
  bucket: number;
  start: number;
  sums: number[];
  counts: number[];
}

/**
 * The SELECT that sums one table's rows of a window per bucket, in bucket order, with the
 * parameters `(from, width, run, from, to)`. Grouping in SQLite hands back one row a bucket
 * instead of every sample (a day of 30-s samples is 2,880 rows for a 400-point chart).
 * `weight`: the column saying how many samples a row stands for, or null for raw samples.
 * `metrics` must be checked names (they are columns).
 */
export function bucketSumsSql(
  table: string,
  metrics: readonly SampleMetric[],
  weight: string | null,
): string {
  const sums = metrics.map((m) =>
    weight === null
      ? `SUM(${m}), COUNT(${m})`
      : `SUM(${m} * ${weight}), SUM(CASE WHEN ${m} IS NULL THEN 0 ELSE ${weight} END)`,
  );
  // `at >= from`, so truncating the quotient is flooring it: the same bucket as
  // `Math.floor((at - from) / width)`, computed in the same doubles.
  return `SELECT CAST((at - ?) / ? AS INTEGER) AS bucket, MIN(at), ${sums.join(", ")}
    FROM ${table} WHERE run = ? AND at >= ? AND at < ? GROUP BY bucket ORDER BY bucket`;
}

/** Rows of {@link bucketSumsSql} (read raw) as bucket sums. */
export function toBucketSums(
  rows: ReadonlyArray<ReadonlyArray<number | null>>,
  metricCount: number,
): BucketSums[] {
  return rows.map((row) => {
    const sums: number[] = [];
    const counts: number[] = [];
    for (let m = 0; m < metricCount; m++) {
      sums.push((row[2 + 2 * m] as number | null) ?? 0);
      counts.push((row[3 + 2 * m] as number | null) ?? 0);
    }
    return { bucket: row[0] as number, start: row[1] as number, sums, counts };
  });
}

/**
 * One series per metric from the bucket sums of every source: sums of the same bucket add up
 * (a bucket can straddle the roll-ups and the raw samples), each bucket's point is its sum over
 * its weight at the time of its first sample, and a bucket where a metric has no value is left
 * out of that metric's list.
 */
export function seriesFromBuckets(
  sources: ReadonlyArray<readonly BucketSums[]>,
  metrics: readonly SampleMetric[],
): Record<string, SeriesPoint[]> {
  const out: Record<string, SeriesPoint[]> = {};
  for (const metric of metrics) out[metric] = [];
  const all = sources.flat().sort((a, b) => a.bucket - b.bucket || a.start - b.start);
  for (let i = 0; i < all.length; ) {
    const first = all[i] as BucketSums;
    const sums = first.sums.slice();
    const counts = first.counts.slice();
    let j = i + 1;
    for (; j < all.length && (all[j] as BucketSums).bucket === first.bucket; j++) {
      const more = all[j] as BucketSums;
      for (let m = 0; m < metrics.length; m++) {
        sums[m] = (sums[m] as number) + (more.sums[m] as number);
        counts[m] = (counts[m] as number) + (more.counts[m] as number);
      }
    }
    metrics.forEach((metric, m) => {
      if (counts[m]) {
        (out[metric] as SeriesPoint[]).push({
          at: first.start,
          value: (sums[m] as number) / (counts[m] as number),
        });
      }
    });
    i = j;
  }
  return out;
}
