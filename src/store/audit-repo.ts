import type { Db } from "./database.ts";

/** How a mutating attempt ended (or where it stands). */
export type AuditOutcome =
  | "refused"
  | "invalid"
  | "requested"
  | "confirmed"
  | "cancelled"
  | "expired"
  | "applied"
  | "failed"
  | "done"
  | "recovered"
  | "taken-over"
  | "unlocked";

/** One audited attempt: who, where, what, and how it ended. */
export interface AuditEntry {
  id: number;
  at: number;
  platform: string;
  userId: string;
  userName: string;
  channelId: string;
  run: string | null;
  command: string;
  args: Record<string, string | undefined>;
  outcome: AuditOutcome;
  detail: string | null;
  /** How long the operation took, for those that run (an apply); null otherwise. */
  durationMs?: number | null;
}

export type NewAuditEntry = Omit<AuditEntry, "id">;

interface AuditRow {
  id: number;
  at: number;
  platform: string;
  user_id: string;
  user_name: string;
  channel_id: string;
  run: string | null;
  command: string;
  args_json: string;
  outcome: string;
  detail: string | null;
  duration_ms: number | null;
}

/** The audit trail of mutating commands and refusals. Append-only. */
export class AuditRepo {
  constructor(private readonly db: Db) {}

  record(entry: NewAuditEntry): number {
    const result = this.db
      .prepare(
        `INSERT INTO audit (at, platform, user_id, user_name, channel_id, run, command, args_json,
          outcome, detail, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        entry.at,
        entry.platform,
        entry.userId,
        entry.userName,
        entry.channelId,
        entry.run,
        entry.command,
        JSON.stringify(entry.args),
        entry.outcome,
        entry.detail,
        entry.durationMs ?? null,
      );
    return Number(result.lastInsertRowid);
  }

  /** Entries, newest first, optionally for one run and only some outcomes. */
  list(filter: { run?: string; outcomes?: AuditOutcome[]; limit?: number } = {}): AuditEntry[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.run !== undefined) {
      where.push("run = ?");
      params.push(filter.run);
    }
    if (filter.outcomes?.length) {
      where.push(`outcome IN (${filter.outcomes.map(() => "?").join(", ")})`);
      params.push(...filter.outcomes);
    }
    const sql = `SELECT * FROM audit ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY at DESC, id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...params, filter.limit ?? 1000) as AuditRow[];
    return rows.map(toEntry);
  }
}

function toEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    at: row.at,
    platform: row.platform,
    userId: row.user_id,
    userName: row.user_name,
    channelId: row.channel_id,
    run: row.run,
    command: row.command,
    args: JSON.parse(row.args_json) as Record<string, string | undefined>,
    outcome: row.outcome as AuditOutcome,
    detail: row.detail,
    durationMs: row.duration_ms,
  };
}
