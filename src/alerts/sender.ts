import type { Clock } from "../core/clock.ts";
import type { Message } from "../message/message.ts";
import type { AlertOutboxRepo } from "../store/alert-outbox-repo.ts";
import type { AlertLogger } from "./alert-engine.ts";
import { groupMessage } from "./alert-message.ts";
import type { QuietHoursGate } from "./quiet-hours-gate.ts";
import type { AlertSink, DeliveryResult } from "./sinks/alert-sink.ts";

/** Back-off between attempts of one delivery: base × 2^(attempts-1), capped. */
export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
}

export interface SenderOptions {
  outbox: AlertOutboxRepo;
  sinks: readonly AlertSink[];
  clock: Clock;
  /** Notifications within this long of a run's previous message go out together. */
  groupWindowMs: number;
  retry?: RetryPolicy;
  log: AlertLogger;
  /** How often the loop looks for due work when nothing wakes it. */
  tickMs?: number;
  /**
   * Finishes a message before sinks see it (draws its `charts`). Called once per batch and
   * pass, so every sink gets the same message; a failure sends the message as it is.
   */
  prepare?: (message: Message) => Promise<Message>;
  /** Channels' quiet hours: what waits, and the summary sealed when a window ends. */
  quietHours?: QuietHoursGate;
}

/**
 * Delivers the outbox. Sealing notifications into a batch and owing it to every sink is one
 * transaction; each sink's deliveries go in order, and a success is marked in the store right
 * after the sink accepted it (synchronously, before anything else runs).
 *
 * The windows that can repeat a message: the platform answered 2xx but the process died before
 * that mark was written (microseconds of synchronous SQLite work); or a request went out and
 * no answer came. For the second, a sink that is not `idempotent` gets one more attempt, and
 * after a second unanswered one the delivery is recorded as "maybe delivered" instead of being
 * sent again. Nothing is dropped silently: an unmarked delivery is retried after a restart.
 */
export class Sender {
  private readonly retry: RetryPolicy;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private inFlight: Promise<number> | null = null;
  private again = false;
  private beforePass: () => void = () => {};
  /** Prepared messages of the pass in progress, by batch. */
  private prepared = new Map<number, Promise<Message>>();

  constructor(private readonly o: SenderOptions) {
    this.retry = o.retry ?? { baseMs: 1000, maxMs: 5 * 60_000 };
  }

  /**
   * Seals what is due into batches and attempts every due delivery once. Resolves to the number
   * of deliveries sinks accepted. Concurrent calls share one pass (and run one more after it).
   */
  deliverDue(): Promise<number> {
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    const pass = async (): Promise<number> => {
      let total = 0;
      do {
        this.again = false;
        total += await this.pass();
      } while (this.again);
      return total;
    };
    this.inFlight = pass().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  /** Starts the background loop (idempotent); `beforePass` runs first on every tick. */
  start(beforePass?: () => void): void {
    if (this.running) return;
    if (beforePass) this.beforePass = beforePass;
    this.running = true;
    this.schedule(0);
  }

  /** Stops the loop and waits for the pass in progress. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight?.catch(() => undefined);
  }

  /** Wakes the loop now (new notifications were queued). */
  kick(): void {
    if (this.running) this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      Promise.resolve()
        .then(() => this.beforePass())
        .then(() => this.deliverDue())
        .catch((error) => this.o.log.error({ err: error }, "alert delivery pass failed"))
        .finally(() => {
          if (this.running && !this.timer) this.schedule(this.o.tickMs ?? 250);
        });
    }, ms);
    this.timer.unref?.();
  }

  private async pass(): Promise<number> {
    // With no sink (a process that only reads alert state) leave the outbox to one that has.
    if (this.o.sinks.length === 0) return 0;
    this.seal(this.o.clock.now());
    this.o.quietHours?.release(this.o.sinks, this.o.clock.now());
    try {
      const counts = await Promise.all(this.o.sinks.map((sink) => this.drain(sink)));
      return counts.reduce((a, b) => a + b, 0);
    } finally {
      this.prepared.clear();
    }
  }

  /**
   * Groups unbatched notifications per run. The first notification after a quiet period goes
   * at once (alerts must be fast); later ones within `groupWindowMs` of the run's previous
   * message wait for the window to close and go as one message, unless one is critical.
   */
  private seal(now: number): void {
    const byRun = new Map<string | null, ReturnType<AlertOutboxRepo["unbatched"]>>();
    for (const entry of this.o.outbox.unbatched()) {
      const list = byRun.get(entry.run) ?? [];
      list.push(entry);
      byRun.set(entry.run, list);
    }
    for (const [run, entries] of byRun) {
      const last = this.o.outbox.lastBatchAt(run);
      // A critical notification (OOM, crash, unreachable) goes at once, taking along what
      // waits with it: the group window saves noise, never the time to a critical alert.
      const critical = entries.some((e) => e.message.severity === "critical");
      if (!critical && last !== null && now < last + this.o.groupWindowMs) continue;
      const message: Message = groupMessage(
        entries.map((e) => e.message),
        run,
      );
      this.o.outbox.seal(
        run,
        entries.map((e) => e.id),
        message,
        this.o.sinks.map((s) => s.name),
        now,
      );
    }
  }

  /** The batch's message as sinks get it: charts drawn, or left out when drawing failed. */
  private prepare(due: { batchId: number; message: Message }): Promise<Message> {
    const { charts, ...rest } = due.message;
    if (!charts?.length || !this.o.prepare) return Promise.resolve(rest);
    let prepared = this.prepared.get(due.batchId);
    if (!prepared) {
      prepared = this.o.prepare(due.message).catch((error: Error) => {
        this.o.log.warn({ batch: due.batchId, err: error.message }, "chart not drawn");
        return rest;
      });
      this.prepared.set(due.batchId, prepared);
    }
    return prepared;
  }

  /** Sends one sink's due deliveries in order; stops at the first that must wait. */
  private async drain(sink: AlertSink): Promise<number> {
    let delivered = 0;
    for (const due of this.o.outbox.pendingFor(sink.name)) {
      if (due.nextAttemptAt > this.o.clock.now()) break;
      let result: DeliveryResult;
      try {
        const prepared = await this.prepare(due);
        const message = this.o.quietHours
          ? this.o.quietHours.apply(sink, due.batchId, prepared, this.o.clock.now())
          : prepared;
        // Held whole for the channel's quiet hours: the delivery is settled, the rest waits.
        if (message === null) continue;
        result = await sink.deliver(message, due.idempotencyKey);
      } catch (error) {
        result = { ok: false, retryable: true, error: (error as Error).message };
      }
      const now = this.o.clock.now();
      if (result.ok) {
        this.o.outbox.markSent(due.batchId, sink.name, now);
        delivered++;
        continue;
      }
      if (!result.retryable) {
        this.o.outbox.markFailed(due.batchId, sink.name, result.error);
        this.o.log.error(
          { sink: sink.name, batch: due.batchId, error: result.error },
          "alert delivery failed for good",
        );
        continue;
      }
      if (result.unknownOutcome && !sink.idempotent && due.unknownOutcomes >= 1) {
        // Sent twice with no answer either time, to a platform that cannot tell a repeat:
        // a third copy is more likely a duplicate than a rescue.
        this.o.outbox.markMaybeDelivered(due.batchId, sink.name, now, result.error);
        this.o.log.warn(
          { sink: sink.name, batch: due.batchId, error: result.error },
          "alert maybe delivered: no answer to two attempts, not sent again",
        );
        continue;
      }
      const backoff = Math.min(this.retry.maxMs, this.retry.baseMs * 2 ** due.attempts);
      // The platform's own figure wins over our guess: it knows when its bucket refills.
      const wait = result.retryAfterMs !== undefined ? Math.max(50, result.retryAfterMs) : backoff;
      this.o.outbox.markRetry(
        due.batchId,
        sink.name,
        now + wait,
        result.error,
        result.unknownOutcome === true,
      );
      this.o.log.warn(
        {
          sink: sink.name,
          batch: due.batchId,
          attempt: due.attempts + 1,
          retryInMs: wait,
          error: result.error,
        },
        "alert delivery will be retried",
      );
      break;
    }
    return delivered;
  }
}
