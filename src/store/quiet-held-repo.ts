import type { Message } from "../message/message.ts";
import type { AlertOutboxRepo } from "./alert-outbox-repo.ts";
import type { Db } from "./database.ts";

/** A notification a channel's quiet hours held back. */
export interface HeldNotice {
  id: number;
  sink: string;
  batchId: number;
  heldAt: number;
  /** When it may go: the end of the quiet window it fell in. */
  notBefore: number;
  /** The part of the batch's message this channel was to get. */
  message: Message;
}

interface HeldRow {
  id: number;
  sink: string;
  batch_id: number;
  held_at: number;
  not_before: number;
  message_json: string;
}

/**
 * What quiet hours hold back, per channel, until the window ends. Holding and releasing are
 * transactions with the outbox: a held notification is owed by exactly one of its delivery row
 * or its held row, and released into exactly one summary batch.
 */
export class QuietHeldRepo {
  constructor(
    private readonly db: Db,
    private readonly outbox: AlertOutboxRepo,
  ) {}

  /** Whether part of batch `batchId` is already held for `sink`. */
  isHeld(sink: string, batchId: number): boolean {
    return (
      this.db
        .prepare("SELECT 1 FROM quiet_held WHERE sink = ? AND batch_id = ?")
        .get(sink, batchId) !== undefined
    );
  }

  /**
   * Holds `message` (the part of batch `batchId` that waits) for `sink` until `notBefore`. With
   * `settled` the delivery row is marked done in the same transaction: the held row owes the
   * rest. Holding the same batch twice for one sink keeps the first.
   */
  hold(
    sink: string,
    batchId: number,
    message: Message,
    notBefore: number,
    now: number,
    settled: boolean,
  ): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT OR IGNORE INTO quiet_held (sink, batch_id, held_at, not_before, message_json)
           VALUES (?, ?, ?, ?, ?)`,
        )
        .run(sink, batchId, now, notBefore, JSON.stringify(message));
      if (settled) {
        this.db
          .prepare(
            `UPDATE alert_deliveries SET state = 'sent', sent_at = ?, last_error = 'held for quiet hours'
             WHERE batch_id = ? AND sink = ? AND state = 'pending'`,
          )
          .run(now, batchId, sink);
      }
    })();
  }

  /** The notifications sealed into batch `batchId`, oldest first (one per alert change). */
  batchParts(batchId: number): Message[] {
    return (
      this.db
        .prepare("SELECT message_json FROM alert_outbox WHERE batch_id = ? ORDER BY id")
        .all(batchId) as Array<{ message_json: string }>
    ).map((row) => JSON.parse(row.message_json) as Message);
  }

  /** The sinks that have notifications waiting. */
  sinksWaiting(): string[] {
    return (
      this.db
        .prepare("SELECT DISTINCT sink FROM quiet_held WHERE released_batch_id IS NULL")
        .all() as Array<{ sink: string }>
    ).map((row) => row.sink);
  }

  /** What waits for `sink`, oldest first. */
  waiting(sink: string): HeldNotice[] {
    const rows = this.db
      .prepare(
        "SELECT * FROM quiet_held WHERE sink = ? AND released_batch_id IS NULL ORDER BY batch_id, id",
      )
      .all(sink) as HeldRow[];
    return rows.map((row) => ({
      id: row.id,
      sink: row.sink,
      batchId: row.batch_id,
      heldAt: row.held_at,
      notBefore: row.not_before,
      message: JSON.parse(row.message_json) as Message,
    }));
  }

  /**
   * Releases `held` as one batch carrying `summary`, owed to their sink only, in one
   * transaction; returns the batch id.
   */
  release(sink: string, held: readonly HeldNotice[], summary: Message, now: number): number {
    return this.db.transaction(() => {
      const batchId = this.outbox.seal(null, [], summary, [sink], now);
      const mark = this.db.prepare(
        "UPDATE quiet_held SET released_batch_id = ? WHERE id = ? AND released_batch_id IS NULL",
      );
      for (const notice of held) {
        if (mark.run(batchId, notice.id).changes !== 1) {
          throw new Error(`held notification ${notice.id} was already released`);
        }
      }
      return batchId;
    })();
  }

  /** Forgets released notifications held before `before`. */
  prune(before: number): number {
    return this.db
      .prepare("DELETE FROM quiet_held WHERE released_batch_id IS NOT NULL AND held_at < ?")
      .run(before).changes;
  }
}
