import type { Message } from "../../message/message.ts";

/** What a sink says about one delivery attempt. */
export type DeliveryResult =
  | { ok: true }
  /**
   * Try again later; `retryAfterMs` when the platform said how long (HTTP 429).
   * `unknownOutcome` when the request went out and no answer came (a timeout, a connection cut
   * after sending): the platform may have posted it.
   */
  | { ok: false; retryable: true; retryAfterMs?: number; unknownOutcome?: boolean; error: string }
  /** Will never succeed (bad URL, 4xx other than 429): recorded, not retried. */
  | { ok: false; retryable: false; error: string };

/**
 * A destination for alerts: console, a webhook, or a chat bot's alert channel. The outbox calls
 * `deliver` until it succeeds; `idempotencyKey` is stable across retries of one alert so a sink
 * that can deduplicate (Slack/Discord message metadata, nonce) does.
 */
export interface AlertSink {
  /** Stable name, recorded per delivery: `console`, `discord-webhook:0`, `slack-bot`… */
  readonly name: string;
  /**
   * The platform recognises a repeat of the same key (Discord's `enforce_nonce`) and posts it
   * once: after an unknown outcome such a sink is retried as usual. Others are retried at most
   * once, then recorded as "maybe delivered".
   */
  readonly idempotent?: boolean;
  /**
   * The part of `message` this sink would deliver, or null for none; absent = all of it. Quiet
   * hours hold only what the channel would have shown.
   */
  pass?(message: Message): Message | null;
  deliver(message: Message, idempotencyKey: string): Promise<DeliveryResult>;
}
