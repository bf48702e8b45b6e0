import type { Migration } from "./migration.ts";

/**
 * The roll-ups keep the loss too (its average over each minute and hour), so a loss chart
 * reaches past the raw window like the other metrics do.
 */
export const chartLossRollupsMigration: Migration = {
  id: 16,
  name: "chart-loss-rollups",
  up: `
ALTER TABLE samples_1m ADD COLUMN loss REAL;
ALTER TABLE samples_1h ADD COLUMN loss REAL;
`,
};
