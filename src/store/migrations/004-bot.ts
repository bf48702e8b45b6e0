import type { Migration } from "./migration.ts";

/**
 * Tables of the bot area: pending confirmations (so a Confirm button still works after a bot
 * restart, and a double press applies once) and the audit trail of mutating attempts. Also a
 * covering index over the charted sample columns: `/train status` draws 24 h of four metrics
 * on every call, and reading them from the index alone keeps it far under the 3-second reply
 * window even on a store holding months of samples.
 */
export const botMigration: Migration = {
  id: 4,
  name: "bot",
  up: `
CREATE TABLE confirmations (
  id TEXT PRIMARY KEY,
  run TEXT NOT NULL,
  command TEXT NOT NULL,
  args_json TEXT NOT NULL,
  preview_json TEXT NOT NULL,
  platform TEXT NOT NULL,
  user_id TEXT NOT NULL,
  user_name TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  resolved_at INTEGER,
  resolved_by TEXT,
  outcome TEXT
);
CREATE INDEX confirmations_state_expires ON confirmations (state, expires_at);

CREATE TABLE audit (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  platform TEXT NOT NULL,
  user_id TEXT NOT NULL,
  user_name TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  run TEXT,
  command TEXT NOT NULL,
  args_json TEXT NOT NULL,
  outcome TEXT NOT NULL,
  detail TEXT
);
CREATE INDEX audit_run_at ON audit (run, at);

CREATE INDEX samples_run_at_charted ON samples
  (run, at, step_time_s, gpu_mem_used_mib, host_used_bytes, gpu_util_pct);
`,
};
