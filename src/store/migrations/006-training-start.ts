import type { Migration } from "./migration.ts";

/**
 * When a phase attempt's training was started. Errors count against the attempt from then on:
 * what the old process printed while it was being stopped is not the new config's doing.
 */
export const trainingStartMigration: Migration = {
  id: 6,
  name: "training-start",
  up: `
ALTER TABLE phase_attempts ADD COLUMN training_started_at INTEGER;
`,
};
