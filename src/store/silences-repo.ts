import type { Db } from "./database.ts";

/** A mute on a run, a rule, or one rule of one run (null = any). */
export interface SilenceRecord {
  id: number;
  run: string | null;
  rule: string | null;
  reason: string;
  createdBy: string | null;
  createdAt: number;
  endsAt: number;
  /** When it stopped applying (expired or lifted), null while active. */
  endedAt: number | null;
  endReason: "expired" | "lifted" | null;
}

interface SilenceRow {
  id: number;
  run: string | null;
  rule: string | null;
  reason: string;
  created_by: string | null;
  created_at: number;
  ends_at: number;
  ended_at: number | null;
  end_reason: "expired" | "lifted" | null;
}

/** Silences; ending one is recorded, not deleted, so expiry is announced exactly once. */
export class SilencesRepo {
  constructor(private readonly db: Db) {}

  insert(silence: Omit<SilenceRecord, "id" | "endedAt" | "endReason">): SilenceRecord {
    const result = this.db
      .prepare(
        `INSERT INTO alert_silences (run, rule, reason, created_by, created_at, ends_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(
        silence.run,
        silence.rule,
        silence.reason,
        silence.createdBy,
        silence.createdAt,
        silence.endsAt,
      );
    return { ...silence, id: Number(result.lastInsertRowid), endedAt: null, endReason: null };
  }

  get(id: number): SilenceRecord | null {
    const row = this.db.prepare("SELECT * FROM alert_silences WHERE id = ?").get(id) as
      | SilenceRow
      | undefined;
    return row ? toSilence(row) : null;
  }

  /** Silences not yet ended (some may be past `ends_at` until the engine expires them). */
  active(): SilenceRecord[] {
    return (
      this.db
        .prepare("SELECT * FROM alert_silences WHERE ended_at IS NULL ORDER BY id")
        .all() as SilenceRow[]
    ).map(toSilence);
  }

  /** Marks a silence ended; returns false when it had already ended. */
  end(id: number, at: number, reason: "expired" | "lifted"): boolean {
    return (
      this.db
        .prepare(
          "UPDATE alert_silences SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL",
        )
        .run(at, reason, id).changes === 1
    );
  }
}

function toSilence(row: SilenceRow): SilenceRecord {
  return {
    id: row.id,
    run: row.run,
    rule: row.rule,
    reason: row.reason,
    createdBy: row.created_by,
    createdAt: row.created_at,
    endsAt: row.ends_at,
    endedAt: row.ended_at,
    endReason: row.end_reason,
  };
}
