import type { SlurmJob, SlurmJobRecord } from "../model/slurm-job.ts";
import type { Db } from "./database.ts";

interface SlurmJobRow {
  run: string;
  job_id: string;
  seen_at: number;
  updated_at: number;
  state: string;
  job_json: string;
  previous_job_id: string | null;
  submitted_by_trainops: number;
  cancelled_by_trainops: number;
}

/** The Slurm jobs of each run, in the order they appeared (the job id chain). */
export class SlurmJobsRepo {
  constructor(private readonly db: Db) {}

  /**
   * Records what a poll saw of a job. A job id new to the run joins the chain after the
   * current job; a known one is updated in place.
   */
  observe(run: string, job: SlurmJob, at: number): void {
    const current = this.current(run);
    this.db
      .prepare(
        `INSERT INTO slurm_jobs (run, job_id, seen_at, updated_at, state, job_json, previous_job_id)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (run, job_id) DO UPDATE SET updated_at = excluded.updated_at,
           state = excluded.state, job_json = excluded.job_json`,
      )
      .run(
        run,
        job.jobId,
        at,
        at,
        job.state,
        JSON.stringify(job),
        current && current.job.jobId !== job.jobId ? current.job.jobId : null,
      );
  }

  /** Notes a job trainops submitted (a restart), so the next poll follows it. */
  noteSubmitted(run: string, job: SlurmJob, previousJobId: string | null, at: number): void {
    this.db
      .prepare(
        `INSERT INTO slurm_jobs (run, job_id, seen_at, updated_at, state, job_json, previous_job_id,
           submitted_by_trainops) VALUES (?, ?, ?, ?, ?, ?, ?, 1)
         ON CONFLICT (run, job_id) DO UPDATE SET submitted_by_trainops = 1`,
      )
      .run(run, job.jobId, at, at, job.state, JSON.stringify(job), previousJobId);
  }

  /** Notes that trainops cancelled (or requeued) this job: its end is no failure. */
  noteCancelled(run: string, jobId: string): void {
    this.db
      .prepare("UPDATE slurm_jobs SET cancelled_by_trainops = 1 WHERE run = ? AND job_id = ?")
      .run(run, jobId);
  }

  /** Takes back {@link noteCancelled}: trainops' cancel did not happen, so the job's end is news. */
  clearCancelled(run: string, jobId: string): void {
    this.db
      .prepare("UPDATE slurm_jobs SET cancelled_by_trainops = 0 WHERE run = ? AND job_id = ?")
      .run(run, jobId);
  }

  /** The run's newest job, or null before any was seen. */
  current(run: string): SlurmJobRecord | null {
    const row = this.db
      .prepare("SELECT * FROM slurm_jobs WHERE run = ? ORDER BY seen_at DESC, rowid DESC LIMIT 1")
      .get(run) as SlurmJobRow | undefined;
    return row ? toRecord(row) : null;
  }

  /** One job of the run, or null. */
  get(run: string, jobId: string): SlurmJobRecord | null {
    const row = this.db
      .prepare("SELECT * FROM slurm_jobs WHERE run = ? AND job_id = ?")
      .get(run, jobId) as SlurmJobRow | undefined;
    return row ? toRecord(row) : null;
  }

  /** Every job of the run, oldest first (at most `limit`, the newest ones). */
  chain(run: string, limit = 20): SlurmJobRecord[] {
    const rows = this.db
      .prepare("SELECT * FROM slurm_jobs WHERE run = ? ORDER BY seen_at DESC, rowid DESC LIMIT ?")
      .all(run, limit) as SlurmJobRow[];
    return rows.reverse().map(toRecord);
  }
}

function toRecord(row: SlurmJobRow): SlurmJobRecord {
  return {
    run: row.run,
    job: JSON.parse(row.job_json) as SlurmJob,
    seenAt: row.seen_at,
    updatedAt: row.updated_at,
    previousJobId: row.previous_job_id,
    submittedByTrainops: row.submitted_by_trainops === 1,
    cancelledByTrainops: row.cancelled_by_trainops === 1,
  };
}
