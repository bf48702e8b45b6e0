import type { Migration } from "./migration.ts";

/**
 * Samples older than the raw window (config `rawSamples`) are rolled up per minute and per
 * hour: each row holds the averages of the chartable metrics over its bucket (the step: its
 * highest value) and how many samples it stands for, so averages over longer buckets stay
 * exact.
 */
export const sampleRollupsMigration: Migration = {
  id: 10,
  name: "sample-rollups",
  up: `
CREATE TABLE samples_1m (
  run TEXT NOT NULL,
  at INTEGER NOT NULL,
  n INTEGER NOT NULL,
  step INTEGER,
  step_time_s REAL,
  steps_per_hour REAL,
  gpu_mem_used_mib REAL,
  gpu_util_pct REAL,
  host_used_bytes REAL,
  workers_rss_bytes REAL,
  PRIMARY KEY (run, at)
) WITHOUT ROWID;
CREATE TABLE samples_1h (
  run TEXT NOT NULL,
  at INTEGER NOT NULL,
  n INTEGER NOT NULL,
  step INTEGER,
  step_time_s REAL,
  steps_per_hour REAL,
  gpu_mem_used_mib REAL,
  gpu_util_pct REAL,
  host_used_bytes REAL,
  workers_rss_bytes REAL,
  PRIMARY KEY (run, at)
) WITHOUT ROWID;
`,
};
