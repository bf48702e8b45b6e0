import type { Migration } from "./migration.ts";

/** Phase attempts (the persisted state machine), change locks and config backups. */
export const phasesMigration: Migration = {
  id: 3,
  name: "phases",
  up: `
CREATE TABLE phase_attempts (
  id INTEGER PRIMARY KEY,
  run TEXT NOT NULL,
  plan TEXT NOT NULL,
  phase_index INTEGER NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  state TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  measure_from INTEGER,
  ended_at INTEGER,
  workers INTEGER,
  batch INTEGER,
  config_before TEXT,
  config_after TEXT,
  result_json TEXT,
  reason TEXT,
  rolled_back_at INTEGER,
  paused INTEGER NOT NULL DEFAULT 0,
  actor TEXT
);
CREATE INDEX phase_attempts_run ON phase_attempts (run, id);

CREATE TABLE change_locks (
  run TEXT PRIMARY KEY,
  holder_id TEXT NOT NULL,
  holder_name TEXT NOT NULL,
  operation TEXT NOT NULL,
  acquired_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);

CREATE TABLE config_backups (
  id INTEGER PRIMARY KEY,
  run TEXT NOT NULL,
  at INTEGER NOT NULL,
  path TEXT NOT NULL,
  backup_path TEXT NOT NULL,
  sha256_after TEXT NOT NULL,
  operation TEXT NOT NULL,
  actor TEXT NOT NULL
);
CREATE INDEX config_backups_run ON config_backups (run, at);
`,
};
