import type { Migration } from "./migration.ts";

/**
 * A store that grows by kilobytes per run-hour. The newest sample of each run lives in
 * `samples_latest` (rewritten every poll: status and the alert rules read it), while `samples`
 * keeps at most one sample per `sampleEvery` plus every change of state. A sample's GPUs are
 * stored as their figures alone; what names each GPU (model, uuid, node) is kept once per run
 * in `sample_gpus`. A streak of successful polls is one `polls` row with a count. The index on
 * `samples (run, at)` goes: the charted index starts with the same columns.
 */
export const compactStoreMigration: Migration = {
  id: 17,
  name: "compact-store",
  up: `
CREATE TABLE samples_latest (
  run TEXT PRIMARY KEY,
  at INTEGER NOT NULL,
  kept INTEGER NOT NULL,
  sample_json TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE sample_gpus (
  run TEXT NOT NULL,
  ordinal INTEGER NOT NULL,
  identity_json TEXT NOT NULL,
  PRIMARY KEY (run, ordinal)
) WITHOUT ROWID;

DROP INDEX samples_run_at;

ALTER TABLE polls ADD COLUMN last_started_at INTEGER;
ALTER TABLE polls ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
`,
};
