import type { Message } from "../message/message.ts";
import { AlertOutboxRepo } from "./alert-outbox-repo.ts";
import type { Db } from "./database.ts";

/**
 * One-off notices that are not alerts (phase verdicts, rollbacks, operation outcomes). Each
 * goes into the alert outbox once per dedupe key, so the sender's delivery guarantees cover
 * them and a repeated verdict after a restart is not sent twice.
 */
export class NoticesRepo {
  private readonly outbox: AlertOutboxRepo;

  constructor(private readonly db: Db) {
    this.outbox = new AlertOutboxRepo(db);
  }

  /** Queues `message` unless `dedupeKey` was queued before; returns whether it was queued. */
  enqueue(message: Message, dedupeKey: string, run: string | null, at: number): boolean {
    return this.db.transaction(() => {
      const seen = this.db.prepare("SELECT 1 FROM notices WHERE dedupe_key = ?").get(dedupeKey);
      if (seen) return false;
      const outboxId = this.outbox.add({
        createdAt: at,
        run,
        alertId: null,
        kind: "notice",
        message,
      });
      this.db
        .prepare("INSERT INTO notices (dedupe_key, run, created_at, outbox_id) VALUES (?, ?, ?, ?)")
        .run(dedupeKey, run, at, outboxId);
      return true;
    })();
  }

  /** Queued notices, oldest first (optionally one run's), with their keys. */
  list(run?: string): Array<{ key: string; run: string | null; at: number; message: Message }> {
    const rows = this.db
      .prepare(
        `SELECT n.dedupe_key, n.run, n.created_at, o.message_json FROM notices n
         JOIN alert_outbox o ON o.id = n.outbox_id
         ${run === undefined ? "" : "WHERE n.run = ?"} ORDER BY n.outbox_id`,
      )
      .all(...(run === undefined ? [] : [run])) as Array<{
      dedupe_key: string;
      run: string | null;
      created_at: number;
      message_json: string;
    }>;
    return rows.map((row) => ({
      key: row.dedupe_key,
      run: row.run,
      at: row.created_at,
      message: JSON.parse(row.message_json) as Message,
    }));
  }
}
