import type { StepPoint } from "../model/monitoring.ts";
import type { Db } from "./database.ts";

/** A step point with the time it was seen. */
export interface TimedStep extends StepPoint {
  at: number;
}

/**
 * Step points kept per run. The progress estimate reads the newest 64 (a median over the
 * recent intervals); older points are history no reader needs, so a run's steps stay bounded.
 */
export const STEPS_KEPT_PER_RUN = 128;

/** Step progress points parsed from the log (a sample of them: see the ingestor). */
export class StepsRepo {
  constructor(private readonly db: Db) {}

  /** Stores a point; the run's points older than its newest {@link STEPS_KEPT_PER_RUN} go. */
  insert(run: string, point: TimedStep): void {
    this.db
      .prepare(
        "INSERT INTO steps (run, at, step, total, epoch, loss, step_time_s, per_epoch) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      )
      .run(
        run,
        point.at,
        point.step,
        point.total,
        point.epoch,
        point.loss,
        point.stepTime,
        point.perEpoch ?? null,
      );
    this.db
      .prepare(
        `DELETE FROM steps WHERE run = ? AND at < (
           SELECT at FROM steps WHERE run = ? ORDER BY at DESC LIMIT 1 OFFSET ${STEPS_KEPT_PER_RUN - 1})`,
      )
      .run(run, run);
  }

  /** The newest `limit` points of a run, oldest first. */
  recent(run: string, limit = 64): TimedStep[] {
    const rows = this.db
      .prepare(
        `SELECT at, step, total, epoch, loss, step_time_s, per_epoch FROM
           (SELECT rowid AS id, * FROM steps WHERE run = ? ORDER BY at DESC, rowid DESC LIMIT ?)
         ORDER BY at, id`,
      )
      .all(run, limit) as Array<{
      at: number;
      step: number;
      total: number | null;
      epoch: number | null;
      loss: number | null;
      step_time_s: number | null;
      per_epoch: number | null;
    }>;
    return rows.map((row) => ({
      at: row.at,
      step: row.step,
      total: row.total,
      epoch: row.epoch,
      loss: row.loss,
      stepTime: row.step_time_s,
      ...(row.per_epoch !== null ? { perEpoch: row.per_epoch } : {}),
    }));
  }

  prune(before: number): number {
    return this.db.prepare("DELETE FROM steps WHERE at < ?").run(before).changes;
  }
}
