import type { Migration } from "./migration.ts";

/** Log lines that matched a user's pattern (`alerts.rules.pattern`), for the pattern alerts. */
export const logMatchesMigration: Migration = {
  id: 14,
  name: "log-matches",
  up: `
CREATE TABLE log_matches (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run TEXT NOT NULL,
  at INTEGER NOT NULL,
  pattern TEXT NOT NULL,
  line TEXT NOT NULL,
  groups_json TEXT NOT NULL
);
CREATE INDEX log_matches_run_pattern_at ON log_matches (run, pattern, at);
`,
};
