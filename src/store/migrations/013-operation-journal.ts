import type { Migration } from "./migration.ts";

/**
 * Changes that recover from their holder's death. A change lock names the process that holds it
 * (host, pid, that process's start time) and is renewed while held, so a lock whose holder died
 * is taken over at once instead of blocking the run for its whole expiry. Each change journals
 * the steps it has reached, so an interrupted one can be rolled forward or back; the audit trail
 * records how long each operation took.
 */
export const operationJournalMigration: Migration = {
  id: 13,
  name: "operation-journal",
  up: `
ALTER TABLE change_locks ADD COLUMN holder_host TEXT;
ALTER TABLE change_locks ADD COLUMN holder_pid INTEGER;
ALTER TABLE change_locks ADD COLUMN holder_start TEXT;
ALTER TABLE change_locks ADD COLUMN operation_id INTEGER;
ALTER TABLE change_locks ADD COLUMN renewed_at INTEGER;
ALTER TABLE audit ADD COLUMN duration_ms INTEGER;
CREATE TABLE operation_journal (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run TEXT NOT NULL,
  kind TEXT NOT NULL,
  preview_json TEXT NOT NULL,
  actor_json TEXT NOT NULL,
  step TEXT NOT NULL,
  attempt_id INTEGER,
  config_before TEXT,
  config_after TEXT,
  started_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  ended_at INTEGER,
  outcome TEXT,
  detail TEXT
);
CREATE INDEX operation_journal_open ON operation_journal (run) WHERE ended_at IS NULL;
`,
};
