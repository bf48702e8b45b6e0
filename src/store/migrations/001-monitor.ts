import type { Migration } from "./migration.ts";

/** Runs, samples, events, log offsets and poll records. */
export const monitorMigration: Migration = {
  id: 1,
  name: "monitor",
  up: `
CREATE TABLE runs (
  name TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL
);

CREATE TABLE samples (
  id INTEGER PRIMARY KEY,
  run TEXT NOT NULL,
  at INTEGER NOT NULL,
  reachable INTEGER NOT NULL,
  alive INTEGER,
  step INTEGER,
  total_steps INTEGER,
  epoch INTEGER,
  loss REAL,
  step_time_s REAL,
  steps_per_hour REAL,
  eta_s REAL,
  epoch_eta_s REAL,
  gpu_mem_used_mib REAL,
  gpu_mem_total_mib REAL,
  gpu_util_pct REAL,
  host_used_bytes INTEGER,
  host_total_bytes INTEGER,
  workers_count INTEGER,
  workers_rss_bytes INTEGER,
  trainer_rss_bytes INTEGER,
  disk_free_bytes INTEGER,
  gpus_json TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX samples_run_at ON samples (run, at);

CREATE TABLE steps (
  run TEXT NOT NULL,
  at INTEGER NOT NULL,
  step INTEGER NOT NULL,
  total INTEGER,
  epoch INTEGER,
  loss REAL,
  step_time_s REAL
);
CREATE INDEX steps_run_at ON steps (run, at);

CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  run TEXT NOT NULL,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  source TEXT NOT NULL,
  line TEXT NOT NULL,
  detail_json TEXT
);
CREATE INDEX events_run_at ON events (run, at);

CREATE TABLE log_offsets (
  run TEXT PRIMARY KEY,
  inode TEXT,
  offset INTEGER NOT NULL,
  partial BLOB,
  line_count INTEGER NOT NULL DEFAULT 0,
  kernel_mark REAL,
  anchor TEXT,
  updated_at INTEGER NOT NULL
);

CREATE TABLE polls (
  id INTEGER PRIMARY KEY,
  run TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  duration_ms INTEGER,
  outcome TEXT NOT NULL,
  message TEXT
);
CREATE INDEX polls_run_started ON polls (run, started_at);
`,
};
