import type { Message } from "../message/message.ts";
import type { AlertOutboxRepo } from "./alert-outbox-repo.ts";
import type { Db } from "./database.ts";

/** One recorded digest period of a channel. */
export interface DigestPeriod {
  channel: string;
  /** The scheduled time the digest is for (ms since the epoch). */
  periodAt: number;
  /** The batch that carries it; null for the period a schedule started at (nothing sent). */
  batchId: number | null;
}

/** Which digest periods each channel has had: at most one digest per channel and period. */
export class DigestPeriodsRepo {
  constructor(
    private readonly db: Db,
    private readonly outbox: AlertOutboxRepo,
  ) {}

  /** The channel's newest recorded period, or null when it never had one. */
  latest(channel: string): DigestPeriod | null {
    const row = this.db
      .prepare(
        "SELECT channel, period_at, batch_id FROM digest_periods WHERE channel = ? ORDER BY period_at DESC LIMIT 1",
      )
      .get(channel) as { channel: string; period_at: number; batch_id: number | null } | undefined;
    return row ? { channel: row.channel, periodAt: row.period_at, batchId: row.batch_id } : null;
  }

  /** The newest period any channel sent a digest for, or null. */
  latestSent(): number | null {
    const row = this.db
      .prepare("SELECT MAX(period_at) AS at FROM digest_periods WHERE batch_id IS NOT NULL")
      .get() as { at: number | null };
    return row.at;
  }

  /**
   * Records `periodAt` for `channel` and, with `send`, seals `send.message` into a batch owed to
   * that channel's sink only, in one transaction. Returns the batch id, null when no message was
   * given, or undefined when the period was already recorded (nothing is sealed again).
   */
  record(
    channel: string,
    periodAt: number,
    now: number,
    send?: { sink: string; message: Message },
  ): number | null | undefined {
    return this.db.transaction(() => {
      const inserted = this.db
        .prepare(
          "INSERT OR IGNORE INTO digest_periods (channel, period_at, recorded_at) VALUES (?, ?, ?)",
        )
        .run(channel, periodAt, now);
      if (inserted.changes === 0) return undefined;
      if (!send) return null;
      const batchId = this.outbox.seal(null, [], send.message, [send.sink], now);
      this.db
        .prepare("UPDATE digest_periods SET batch_id = ? WHERE channel = ? AND period_at = ?")
        .run(batchId, channel, periodAt);
      return batchId;
    })();
  }

  /** Forgets periods before `before`, keeping each channel's newest. */
  prune(before: number): number {
    return this.db
      .prepare(
        `DELETE FROM digest_periods WHERE period_at < ? AND period_at <
           (SELECT MAX(period_at) FROM digest_periods d WHERE d.channel = digest_periods.channel)`,
      )
      .run(before).changes;
  }
}
