import type { Message } from "../../message/message.ts";

/** What a sink says about one delivery attempt. */
export type DeliveryResult =
  | { ok: true }
  /** Try again later; `retryAfterMs` when the platform said how long (HTTP 429). */
  | { ok: false; retryable: true; retryAfterMs?: number; error: string }
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
  deliver(message: Message, idempotencyKey: string): Promise<DeliveryResult>;
}
