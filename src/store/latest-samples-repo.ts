import type { RunSample } from "../model/monitoring.ts";
import type { Db } from "./database.ts";

/** The newest sample of a run as `samples_latest` holds it. */
export interface LatestSample {
  at: number;
  /** Also stored in `samples` (the history). */
  kept: boolean;
  sample: RunSample;
}

/**
 * The newest sample of each run (`samples_latest`), rewritten at every poll whether or not the
 * sample joins the history: status and the alert rules read it.
 */
export class LatestSamplesRepo {
  constructor(private readonly db: Db) {}

  /** The newest sample recorded for a run, or null. */
  get(run: string): LatestSample | null {
    const row = this.db
      .prepare("SELECT at, kept, sample_json FROM samples_latest WHERE run = ?")
      .get(run) as { at: number; kept: number; sample_json: string } | undefined;
    if (!row) return null;
    return { at: row.at, kept: row.kept === 1, sample: JSON.parse(row.sample_json) as RunSample };
  }

  /** Makes `sample` its run's newest; `kept` says whether the history holds it too. */
  put(sample: RunSample, kept: boolean): void {
    this.db
      .prepare(
        `INSERT INTO samples_latest (run, at, kept, sample_json) VALUES (?, ?, ?, ?)
         ON CONFLICT (run) DO UPDATE SET at = excluded.at, kept = excluded.kept,
           sample_json = excluded.sample_json`,
      )
      .run(sample.run, sample.at, kept ? 1 : 0, JSON.stringify(sample));
  }

  /** Forgets the newest sample of runs last sampled before `before`. */
  prune(before: number): void {
    this.db.prepare("DELETE FROM samples_latest WHERE at < ?").run(before);
  }
}
