import type { Migration } from "./migration.ts";

/**
 * Scheduled digests and quiet hours. `digest_periods` records each channel's digest periods (a
 * row per channel and scheduled time, written with the batch that carries the digest, so a
 * restart neither repeats nor loses one). `quiet_held` keeps what a channel's quiet hours held
 * back, with the time it may go (`not_before`), until it is released as one summary batch.
 * Neither table references alert_batches: pruning delivered batches must not be blocked.
 */
export const digestQuietHoursMigration: Migration = {
  id: 15,
  name: "digest-quiet-hours",
  up: `
CREATE TABLE digest_periods (
  channel TEXT NOT NULL,
  period_at INTEGER NOT NULL,
  recorded_at INTEGER NOT NULL,
  batch_id INTEGER,
  PRIMARY KEY (channel, period_at)
);

CREATE TABLE quiet_held (
  id INTEGER PRIMARY KEY,
  sink TEXT NOT NULL,
  batch_id INTEGER NOT NULL,
  held_at INTEGER NOT NULL,
  not_before INTEGER NOT NULL,
  message_json TEXT NOT NULL,
  released_batch_id INTEGER,
  UNIQUE (sink, batch_id)
);
CREATE INDEX quiet_held_waiting ON quiet_held (sink, not_before) WHERE released_batch_id IS NULL;
`,
};
