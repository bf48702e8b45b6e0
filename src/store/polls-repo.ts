import type { Db } from "./database.ts";

/**
 * How a poll ended. `skipped`: the previous poll of the run was still running. `degraded`: the
 * VM answered but a piece the monitor needs is missing (the log, the training config,
 * nvidia-smi); the message lists them.
 */
export type PollOutcome = "ok" | "degraded" | "unreachable" | "error" | "skipped";

export interface PollRecord {
  run: string;
  startedAt: number;
  durationMs: number | null;
  outcome: PollOutcome;
  message: string | null;
}

/**
 * Poll attempts, including skips, for diagnosis and the `degraded` rule: one row per poll, until
 * `compact` folds older successful polls in a row into one row (the first's start, the newest's
 * start and duration, how many), so a healthy run's history adds no row per poll.
 */
export class PollsRepo {
  constructor(private readonly db: Db) {}

  insert(record: PollRecord): void {
    this.db
      .prepare(
        "INSERT INTO polls (run, started_at, duration_ms, outcome, message) VALUES (?, ?, ?, ?, ?)",
      )
      .run(record.run, record.startedAt, record.durationMs, record.outcome, record.message);
  }

  /**
   * Folds each run's successful polls in a row that started before `before` into one row;
   * polls that were not `ok` stay rows of their own. Returns how many rows went.
   */
  compact(before: number): number {
    return this.db.transaction(() => {
      const rows = this.db
        .prepare(
          `SELECT id, run, started_at, last_started_at, count, outcome FROM polls
           WHERE started_at < ? ORDER BY run, started_at, id`,
        )
        .all(before) as Array<{
        id: number;
        run: string;
        started_at: number;
        last_started_at: number | null;
        count: number;
        outcome: PollOutcome;
      }>;
      const fold = this.db.prepare(
        "UPDATE polls SET last_started_at = ?, duration_ms = (SELECT duration_ms FROM polls WHERE id = ?), count = ? WHERE id = ?",
      );
      const drop = this.db.prepare("DELETE FROM polls WHERE id = ?");
      let dropped = 0;
      let streak: { id: number; run: string; count: number } | null = null;
      for (const row of rows) {
        if (row.outcome !== "ok" || streak?.run !== row.run) {
          streak = row.outcome === "ok" ? { id: row.id, run: row.run, count: row.count } : null;
          continue;
        }
        streak.count += row.count;
        fold.run(row.last_started_at ?? row.started_at, row.id, streak.count, streak.id);
        drop.run(row.id);
        dropped++;
      }
      return dropped;
    })();
  }

  /**
   * The newest `limit` polls of a run that were not skipped, newest first. Of successful polls
   * in a row only the newest's start and duration are kept: the others' starts are spread
   * evenly back to the first's, their durations null.
   */
  recent(run: string, limit = 10): PollRecord[] {
    const rows = this.db
      .prepare(
        `SELECT run, started_at, last_started_at, count, duration_ms, outcome, message FROM polls
         WHERE run = ? AND outcome != 'skipped' ORDER BY started_at DESC, id DESC LIMIT ?`,
      )
      .all(run, limit) as Array<{
      run: string;
      started_at: number;
      last_started_at: number | null;
      count: number;
      duration_ms: number | null;
      outcome: PollOutcome;
      message: string | null;
    }>;
    const out: PollRecord[] = [];
    for (const row of rows) {
      const last = row.last_started_at ?? row.started_at;
      for (let k = 0; k < row.count && out.length < limit; k++) {
        out.push({
          run: row.run,
          startedAt:
            k === 0 ? last : last - Math.round((k * (last - row.started_at)) / (row.count - 1)),
          durationMs: k === 0 ? row.duration_ms : null,
          outcome: row.outcome,
          message: row.message,
        });
      }
    }
    return out;
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

  /**
   * Forgets polls older than `before`. A streak of successful polls that straddles it loses the
   * polls before it, counted as `recent` spreads them.
   */
  prune(before: number): number {
    return this.db.transaction(() => {
      const straddling = this.db
        .prepare(
          "SELECT id, started_at, last_started_at, count FROM polls WHERE started_at < ? AND last_started_at >= ? AND count > 1",
        )
        .all(before, before) as Array<{
        id: number;
        started_at: number;
        last_started_at: number;
        count: number;
      }>;
      for (const row of straddling) {
        const spacing = (row.last_started_at - row.started_at) / (row.count - 1);
        const dropped = Math.min(
          row.count - 1,
          Math.ceil((before - row.started_at) / Math.max(spacing, 1)),
        );
        this.db
          .prepare("UPDATE polls SET started_at = ?, count = ? WHERE id = ?")
          .run(Math.round(row.started_at + dropped * spacing), row.count - dropped, row.id);
      }
      return this.db
        .prepare("DELETE FROM polls WHERE COALESCE(last_started_at, started_at) < ?")
        .run(before).changes;
    })();
  }
}
