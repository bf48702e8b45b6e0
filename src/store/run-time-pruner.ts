import type { Db } from "./database.ts";

/**
 * Rows a retention call deletes at most per table: about 30 ms of work, so housekeeping's
 * round stays short; at a round a minute, 1.2 million rows an hour when far behind.
 */
export const PRUNE_ROWS_PER_CALL = 20_000;

/** A table whose rows are keyed by run and time, with a key or index that starts `(run, at)`. */
export type RunTimeTable = "samples" | "samples_latest" | "samples_1m" | "samples_1h";

/**
 * Retention for tables keyed by run and time, applied through their `(run, at)` keys: run by
 * run, oldest rows first, at most `limit` rows a call, so a round costs what it deletes (a
 * `DELETE … WHERE at < ?` would read the whole table every minute: a second for 100 runs'
 * 90 days of per-minute roll-ups) and a store far behind (a shortened retention) catches up
 * over several rounds instead of stalling the daemon in one.
 */
export class RunTimePruner {
  constructor(
    private readonly db: Db,
    private readonly table: RunTimeTable,
  ) {}

  /** The runs the table holds rows of, read by seeking from one run to the next. */
  runs(): string[] {
    const table = this.table;
    return this.db
      .prepare(
        `WITH RECURSIVE stored(run) AS (
             SELECT MIN(run) FROM ${table}
             UNION ALL
             SELECT (SELECT MIN(run) FROM ${table} WHERE run > stored.run) FROM stored
             WHERE stored.run IS NOT NULL)
           SELECT run FROM stored WHERE run IS NOT NULL`,
      )
      .pluck(true)
      .all() as string[];
  }

  /** Deletes rows older than `before`, oldest first, at most `limit`; returns how many went. */
  prune(before: number, limit: number): number {
    const table = this.table;
    const remove = this.db.prepare(`DELETE FROM ${table} WHERE run = ? AND at < ?`);
    let left = limit;
    for (const run of this.runs()) {
      if (left <= 0) break;
      // Past `limit` rows, stop at the time of the first row that must stay for now.
      const stop = this.db
        .prepare(`SELECT at FROM ${table} WHERE run = ? AND at < ? ORDER BY at LIMIT 1 OFFSET ?`)
        .pluck(true)
        .get(run, before, left) as number | undefined;
      let removed = remove.run(run, stop ?? before).changes;
      // Rows sharing the stop's time all go together, so a round always gets past them.
      if (removed === 0 && stop !== undefined) removed = remove.run(run, stop + 1).changes;
      left -= removed;
    }
    return limit - left;
  }
}
