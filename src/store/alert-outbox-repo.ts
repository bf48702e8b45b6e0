import { randomUUID } from "node:crypto";
import type { Message } from "../message/message.ts";
import type { Db } from "./database.ts";

/** Why an outbox row exists. */
export type OutboxKind =
  | "firing"
  | "repeat"
  | "resolved"
  | "silence_expired"
  | "silence_lifted"
  /** A one-off notice (phase verdict, operation outcome), see NoticesRepo. */
  | "notice";

/** A notification waiting to be sealed into a batch. */
export interface OutboxEntry {
  id: number;
  createdAt: number;
  run: string | null;
  alertId: number | null;
  kind: OutboxKind;
  message: Message;
}

/** One delivery of one batch to one sink that is still owed. */
export interface DueDelivery {
  batchId: number;
  sink: string;
  attempts: number;
  /** Attempts that went out without an answer (timeout, connection cut after sending). */
  unknownOutcomes: number;
  idempotencyKey: string;
  message: Message;
}

/**
 * The alert outbox: notifications (written with the alert change that caused them), batches
 * (one chat message each) and per-sink deliveries.
 */
export class AlertOutboxRepo {
  constructor(private readonly db: Db) {}

  /** Adds a notification; call inside the transaction that changes the alert. */
  add(entry: Omit<OutboxEntry, "id">): number {
    const result = this.db
      .prepare(
        "INSERT INTO alert_outbox (created_at, run, alert_id, kind, message_json) VALUES (?, ?, ?, ?, ?)",
      )
      .run(entry.createdAt, entry.run, entry.alertId, entry.kind, JSON.stringify(entry.message));
    return Number(result.lastInsertRowid);
  }

  /** Notifications not yet in a batch, oldest first. */
  unbatched(): OutboxEntry[] {
    const rows = this.db
      .prepare("SELECT * FROM alert_outbox WHERE batch_id IS NULL ORDER BY id")
      .all() as Array<{
      id: number;
      created_at: number;
      run: string | null;
      alert_id: number | null;
      kind: OutboxKind;
      message_json: string;
    }>;
    return rows.map((row) => ({
      id: row.id,
      createdAt: row.created_at,
      run: row.run,
      alertId: row.alert_id,
      kind: row.kind,
      message: JSON.parse(row.message_json) as Message,
    }));
  }

  /** When the newest batch of `run` (null = not about one run) was sealed, or null. */
  lastBatchAt(run: string | null): number | null {
    const row = this.db
      .prepare("SELECT MAX(created_at) AS at FROM alert_batches WHERE run IS ?")
      .get(run) as { at: number | null };
    return row.at;
  }

  /**
   * Seals `entryIds` into one batch carrying `message`, owed to every sink in `sinks`, in one
   * transaction: a crash leaves either the loose notifications or the whole batch.
   */
  seal(
    run: string | null,
    entryIds: number[],
    message: Message,
    sinks: string[],
    now: number,
  ): number {
    return this.db.transaction(() => {
      const batch = this.db
        .prepare(
          "INSERT INTO alert_batches (created_at, run, idempotency_key, message_json) VALUES (?, ?, ?, ?)",
        )
        // A random key, stable across retries and restarts of this batch and unique across
        // stores: a new store's first batch must not look like an older store's to a platform.
        .run(now, run, `trainops-${randomUUID()}`, JSON.stringify(message));
      const batchId = Number(batch.lastInsertRowid);
      const mark = this.db.prepare(
        "UPDATE alert_outbox SET batch_id = ? WHERE id = ? AND batch_id IS NULL",
      );
      for (const id of entryIds) mark.run(batchId, id);
      const owe = this.db.prepare(
        "INSERT INTO alert_deliveries (batch_id, sink, state, next_attempt_at) VALUES (?, ?, 'pending', ?)",
      );
      for (const sink of sinks) owe.run(batchId, sink, now);
      return batchId;
    })();
  }

  /** Pending deliveries of one sink in batch order (due or not; the sender checks the time). */
  pendingFor(sink: string, limit = 100): Array<DueDelivery & { nextAttemptAt: number }> {
    const rows = this.db
      .prepare(
        `SELECT d.batch_id, d.sink, d.attempts, d.unknown_outcomes, d.next_attempt_at, b.idempotency_key,
           b.message_json
         FROM alert_deliveries d JOIN alert_batches b ON b.id = d.batch_id
         WHERE d.state = 'pending' AND d.sink = ? ORDER BY d.batch_id LIMIT ?`,
      )
      .all(sink, limit) as Array<{
      batch_id: number;
      sink: string;
      attempts: number;
      unknown_outcomes: number;
      next_attempt_at: number;
      idempotency_key: string;
      message_json: string;
    }>;
    return rows.map((row) => ({
      batchId: row.batch_id,
      sink: row.sink,
      attempts: row.attempts,
      unknownOutcomes: row.unknown_outcomes,
      nextAttemptAt: row.next_attempt_at,
      idempotencyKey: row.idempotency_key,
      message: JSON.parse(row.message_json) as Message,
    }));
  }

  markSent(batchId: number, sink: string, at: number): void {
    this.db
      .prepare(
        `UPDATE alert_deliveries SET state = 'sent', sent_at = ?, attempts = attempts + 1,
           last_error = NULL WHERE batch_id = ? AND sink = ?`,
      )
      .run(at, batchId, sink);
  }

  /** Schedules another attempt; `unknownOutcome` when this one went out without an answer. */
  markRetry(
    batchId: number,
    sink: string,
    nextAttemptAt: number,
    error: string,
    unknownOutcome = false,
  ): void {
    this.db
      .prepare(
        `UPDATE alert_deliveries SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?,
           unknown_outcomes = unknown_outcomes + ? WHERE batch_id = ? AND sink = ?`,
      )
      .run(nextAttemptAt, error, unknownOutcome ? 1 : 0, batchId, sink);
  }

  /**
   * Ends a delivery whose attempts went out without an answer, on a platform that cannot tell
   * a repeat: the message may be there, and sending it again may post it twice.
   */
  markMaybeDelivered(batchId: number, sink: string, at: number, error: string): void {
    this.db
      .prepare(
        `UPDATE alert_deliveries SET state = 'sent', sent_at = ?, attempts = attempts + 1,
           unknown_outcomes = unknown_outcomes + 1, maybe_delivered = 1,
           last_error = ? WHERE batch_id = ? AND sink = ?`,
      )
      .run(at, `maybe delivered: ${error}`, batchId, sink);
  }

  markFailed(batchId: number, sink: string, error: string): void {
    this.db
      .prepare(
        `UPDATE alert_deliveries SET state = 'failed', attempts = attempts + 1, last_error = ?
         WHERE batch_id = ? AND sink = ?`,
      )
      .run(error, batchId, sink);
  }

  /** Deliveries still owed plus notifications not yet sealed: zero means all caught up. */
  backlog(): number {
    const row = this.db
      .prepare(
        `SELECT (SELECT COUNT(*) FROM alert_deliveries WHERE state = 'pending')
              + (SELECT COUNT(*) FROM alert_outbox WHERE batch_id IS NULL) AS n`,
      )
      .get() as { n: number };
    return row.n;
  }

  /** Deliveries still owed, by sink name (sinks owed nothing are absent). */
  pendingBySink(): Map<string, number> {
    const rows = this.db
      .prepare(
        "SELECT sink, COUNT(*) AS n FROM alert_deliveries WHERE state = 'pending' GROUP BY sink",
      )
      .all() as Array<{ sink: string; n: number }>;
    return new Map(rows.map((row) => [row.sink, row.n]));
  }

  /** Delivery rows of a batch, for status and tests. */
  deliveries(batchId: number): Array<{
    sink: string;
    state: string;
    attempts: number;
    lastError: string | null;
    maybeDelivered: boolean;
  }> {
    return (
      this.db
        .prepare(
          "SELECT sink, state, attempts, last_error, maybe_delivered FROM alert_deliveries WHERE batch_id = ? ORDER BY sink",
        )
        .all(batchId) as Array<{
        sink: string;
        state: string;
        attempts: number;
        last_error: string | null;
        maybe_delivered: number;
      }>
    ).map((row) => ({
      sink: row.sink,
      state: row.state,
      attempts: row.attempts,
      lastError: row.last_error,
      maybeDelivered: row.maybe_delivered === 1,
    }));
  }

  /**
   * Deletes batches sealed before `before` that nothing is still owed for, with their
   * notifications and delivery rows; returns how many batches went.
   */
  prune(before: number): number {
    return this.db.transaction(() => {
      const done = `SELECT id FROM alert_batches WHERE created_at < ? AND NOT EXISTS
        (SELECT 1 FROM alert_deliveries d WHERE d.batch_id = alert_batches.id AND d.state = 'pending')`;
      this.db.prepare(`DELETE FROM alert_deliveries WHERE batch_id IN (${done})`).run(before);
      this.db.prepare(`DELETE FROM alert_outbox WHERE batch_id IN (${done})`).run(before);
      return this.db.prepare(`DELETE FROM alert_batches WHERE id IN (${done})`).run(before).changes;
    })();
  }

  /** Every sealed batch's message, oldest first (tests, history). */
  batches(): Array<{ id: number; run: string | null; createdAt: number; message: Message }> {
    return (
      this.db.prepare("SELECT * FROM alert_batches ORDER BY id").all() as Array<{
        id: number;
        run: string | null;
        created_at: number;
        message_json: string;
      }>
    ).map((row) => ({
      id: row.id,
      run: row.run,
      createdAt: row.created_at,
      message: JSON.parse(row.message_json) as Message,
    }));
  }
}
