import type { Db } from "./database.ts";

/**
 * Where a confirmation stands. `pending` until pressed or expired; `confirmed` the moment the
 * requester pressed Confirm (exactly one press wins); then `applied` or `failed`.
 */
export type ConfirmationState =
  | "pending"
  | "confirmed"
  | "cancelled"
  | "expired"
  | "applied"
  | "failed";

/** A mutating command waiting for its requester's Confirm / Cancel. */
export interface Confirmation {
  id: string;
  run: string;
  command: string;
  args: Record<string, string | undefined>;
  /** The operation preview, stored as JSON so it survives a restart unchanged. */
  preview: unknown;
  platform: string;
  userId: string;
  userName: string;
  channelId: string;
  createdAt: number;
  expiresAt: number;
  state: ConfirmationState;
  resolvedAt: number | null;
  resolvedBy: string | null;
  outcome: string | null;
}

/** What `create` needs; the state starts as `pending`. */
export type NewConfirmation = Omit<Confirmation, "state" | "resolvedAt" | "resolvedBy" | "outcome">;

interface ConfirmationRow {
  id: string;
  run: string;
  command: string;
  args_json: string;
  preview_json: string;
  platform: string;
  user_id: string;
  user_name: string;
  channel_id: string;
  created_at: number;
  expires_at: number;
  state: string;
  resolved_at: number | null;
  resolved_by: string | null;
  outcome: string | null;
}

/** Pending confirmations of mutating commands, with atomic state transitions. */
export class ConfirmationsRepo {
  constructor(private readonly db: Db) {}

  create(confirmation: NewConfirmation): void {
    this.db
      .prepare(
        `INSERT INTO confirmations (id, run, command, args_json, preview_json, platform, user_id,
          user_name, channel_id, created_at, expires_at, state)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')`,
      )
      .run(
        confirmation.id,
        confirmation.run,
        confirmation.command,
        JSON.stringify(confirmation.args),
        JSON.stringify(confirmation.preview),
        confirmation.platform,
        confirmation.userId,
        confirmation.userName,
        confirmation.channelId,
        confirmation.createdAt,
        confirmation.expiresAt,
      );
  }

  get(id: string): Confirmation | null {
    const row = this.db.prepare("SELECT * FROM confirmations WHERE id = ?").get(id) as
      | ConfirmationRow
      | undefined;
    return row ? toConfirmation(row) : null;
  }

  /**
   * Moves a pending, unexpired confirmation to `to` and returns true; false when another press
   * (or expiry) got there first. One UPDATE, so two presses racing apply once.
   */
  resolvePending(id: string, to: "confirmed" | "cancelled", by: string, now: number): boolean {
    return (
      this.db
        .prepare(
          `UPDATE confirmations SET state = ?, resolved_at = ?, resolved_by = ?
           WHERE id = ? AND state = 'pending' AND expires_at > ?`,
        )
        .run(to, now, by, id, now).changes === 1
    );
  }

  /** Records how a confirmed operation ended. */
  finish(id: string, state: "applied" | "failed", outcome: string): void {
    this.db
      .prepare(
        "UPDATE confirmations SET state = ?, outcome = ? WHERE id = ? AND state = 'confirmed'",
      )
      .run(state, outcome, id);
  }

  /** Marks every pending confirmation past its deadline as expired; returns them. */
  expireDue(now: number): Confirmation[] {
    return this.db.transaction(() => {
      const rows = this.db
        .prepare("SELECT * FROM confirmations WHERE state = 'pending' AND expires_at <= ?")
        .all(now) as ConfirmationRow[];
      const mark = this.db.prepare(
        "UPDATE confirmations SET state = 'expired', resolved_at = ? WHERE id = ? AND state = 'pending'",
      );
      for (const row of rows) mark.run(now, row.id);
      return rows.map((row) => ({
        ...toConfirmation(row),
        state: "expired" as const,
        resolvedAt: now,
      }));
    })();
  }
}

function toConfirmation(row: ConfirmationRow): Confirmation {
  return {
    id: row.id,
    run: row.run,
    command: row.command,
    args: JSON.parse(row.args_json) as Record<string, string | undefined>,
    preview: JSON.parse(row.preview_json) as unknown,
    platform: row.platform,
    userId: row.user_id,
    userName: row.user_name,
    channelId: row.channel_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    state: row.state as ConfirmationState,
    resolvedAt: row.resolved_at,
    resolvedBy: row.resolved_by,
    outcome: row.outcome,
  };
}
