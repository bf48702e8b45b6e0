import type { Migration } from "./migration.ts";

/**
 * Slurm jobs per run: the chain of job ids across resubmits, the state each was last seen in,
 * and what trainops itself did to them (a cancel it made is no failure).
 */
export const slurmJobsMigration: Migration = {
  id: 9,
  name: "slurm-jobs",
  up: `
CREATE TABLE slurm_jobs (
  run TEXT NOT NULL,
  job_id TEXT NOT NULL,
  seen_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  state TEXT NOT NULL,
  job_json TEXT NOT NULL,
  previous_job_id TEXT,
  submitted_by_trainops INTEGER NOT NULL DEFAULT 0,
  cancelled_by_trainops INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run, job_id)
);
CREATE INDEX slurm_jobs_run_seen ON slurm_jobs (run, seen_at);
`,
};
