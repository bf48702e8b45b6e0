import type { Db } from "./database.ts";

/**
 * Stops of a run's training that an operation caused on purpose (a restart), written by the
 * operation itself; the crash, stall and event alert rules read them (see AlertsRepo).
 */
export class ExpectedStopsRepo {
  constructor(private readonly db: Db) {}

  /** The run's process may be down from `notedAt` until `until`: the operation is stopping it. */
  begin(run: string, notedAt: number, until: number): void {
    this.db
      .prepare(
        `INSERT INTO alert_expected_stops (run, noted_at, until, started_at) VALUES (?, ?, ?, NULL)
         ON CONFLICT (run) DO UPDATE
           SET noted_at = excluded.noted_at, until = excluded.until, started_at = NULL`,
      )
      .run(run, notedAt, until);
  }

  /** The restart behind the run's expected stop started the new process at `startedAt`. */
  started(run: string, startedAt: number): void {
    this.db
      .prepare("UPDATE alert_expected_stops SET started_at = ? WHERE run = ?")
      .run(startedAt, run);
  }

  /** The run's current expected stop, or null. */
  get(run: string): { notedAt: number; until: number; startedAt: number | null } | null {
    const row = this.db
      .prepare("SELECT noted_at, until, started_at FROM alert_expected_stops WHERE run = ?")
      .get(run) as { noted_at: number; until: number; started_at: number | null } | undefined;
    return row ? { notedAt: row.noted_at, until: row.until, startedAt: row.started_at } : null;
  }
}
