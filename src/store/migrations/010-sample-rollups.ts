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
  up: `${rollupTable("samples_1m")}${rollupTable("samples_1h")}\n`,
};

/**
 * The CREATE TABLE of one roll-up table, as this migration was released (both tables have the
 * same shape). Its text is frozen: `test/store/shipped-migrations.test.ts` checks it byte for
 * byte; a new column is a new migration (016 added the loss).
 */
function rollupTable(name: "samples_1m" | "samples_1h"): string {
  return `
CREATE TABLE ${name} (
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
) WITHOUT ROWID;`;
}
