import type { Migration } from "./migration.ts";

/**
 * Batches per epoch of a step point whose step the reader composed from an epoch and an
 * in-epoch counter; null when the step is as the log printed it. The progress estimator needs
 * it to tell a composed global step from an in-epoch one. And whether a sample's step time was
 * measured from arrival times (the log printed none), which status marks with `~`.
 */
export const stepsPerEpochMigration: Migration = {
  id: 8,
  name: "steps-per-epoch",
  up: `
ALTER TABLE steps ADD COLUMN per_epoch INTEGER;
ALTER TABLE samples ADD COLUMN step_time_observed INTEGER;
`,
};
