import type { Db } from "./database.ts";

/** How a poll ended. `skipped`: the previous poll of the run was still running. */
/**
 * How a poll ended. `degraded`: the VM answered but a piece the monitor needs is missing (the
 * log, the training config, nvidia-smi); the message lists them.
 */
export type PollOutcome = "ok" | "degraded" | "unreachable" | "error" | "skipped";

export interface PollRecord {
  run: string;
  startedAt: number;
  durationMs: number | null;
  outcome: PollOutcome;
  message: string | null;
}

/** One row per poll attempt, including skips, for diagnosis and the `unreachable` rule. */
export class PollsRepo {
  constructor(private readonly db: Db) {}

  insert(record: PollRecord): void {
    this.db
      .prepare(
        "INSERT INTO polls (run, started_at, duration_ms, outcome, message) VALUES (?, ?, ?, ?, ?)",
      )
      .run(record.run, record.startedAt, record.durationMs, record.outcome, record.message);
  }

  /** The newest `limit` polls of a run that were not skipped, newest first. */
  recent(run: string, limit = 10): PollRecord[] {
    const rows = this.db
      .prepare(
        `SELECT run, started_at, duration_ms, outcome, message FROM polls
         WHERE run = ? AND outcome != 'skipped' ORDER BY started_at DESC, id DESC LIMIT ?`,
      )
      .all(run, limit) as Array<{
      run: string;
      started_at: number;
      duration_ms: number | null;
      outcome: PollOutcome;
      message: string | null;
    }>;
    return rows.map((row) => ({
      run: row.run,
      startedAt: row.started_at,
      durationMs: row.duration_ms,
      outcome: row.outcome,
      message: row.message,
    }));
  }

  /** How many polls of a run were skipped since `since`. */
  skippedSince(run: string, since: number): number {
    const row = this.db
      .prepare(
        "SELECT COUNT(*) AS n FROM polls WHERE run = ? AND outcome = 'skipped' AND started_at >= ?",
      )
      .get(run, since) as { n: number };
    return row.n;
  }

  prune(before: number): number {
    return this.db.prepare("DELETE FROM polls WHERE started_at < ?").run(before).changes;
  }
}
