import type { webApi } from "@slack/bolt";
import type { AlertSink, DeliveryResult } from "../../alerts/sinks/alert-sink.ts";
import type { Clock } from "../../core/clock.ts";
import type { Message, MessageImage } from "../../message/message.ts";
import { asKnownBlocks, renderMessage } from "./block-kit.ts";
import { uploadChart } from "./chart-upload.ts";
import { classifySlackError, deliveryFailure } from "./web-api-errors.ts";

export interface SlackAlertSinkOptions {
  /**
   * A client that makes ONE attempt per call (no retries, 429 rejected rather than waited out):
   * the outbox owns retrying, so a retried alert is never posted twice by two retry layers.
   */
  client: webApi.WebClient;
  /** `slack.alertChannel`; without it every delivery fails permanently, saying so. */
  channel: string | undefined;
  clock: Clock;
  log: { warn(msg: string): void };
}

/** What went out of one alert so far: a retry continues where the last attempt stopped. */
interface Progress {
  parts: number;
  images: number;
  ts?: string;
}

/** Remembered delivered keys: a redelivery of the same alert is acknowledged, not reposted. */
const DELIVERED_MEMORY = 2000;

/**
 * The alert channel as an outbox sink. Mentions come from the message (`<@U…>`,
 * `<!subteam^S…>`); long alerts are split within Slack's limits; a 429 makes deliver() answer
 * retryable with Slack's `retry_after` and keeps later calls from hitting Slack before then.
 */
export class SlackAlertSink implements AlertSink {
  readonly name = "slack-bot";
  private blockedUntil = 0;
  private readonly progress = new Map<string, Progress>();
  private readonly delivered = new Set<string>();

  constructor(private readonly options: SlackAlertSinkOptions) {}

  async deliver(message: Message, idempotencyKey: string): Promise<DeliveryResult> {
    const { channel, clock, client } = this.options;
    if (!channel) {
      return {
        ok: false,
        retryable: false,
        error:
          "slack.alertChannel is not set: add the channel id (C…) of the alert channel to the slack section",
      };
    }
    if (this.delivered.has(idempotencyKey)) return { ok: true };
    const wait = this.blockedUntil - clock.now();
    if (wait > 0) {
      return {
        ok: false,
        retryable: true,
        retryAfterMs: wait,
        error: `rate limited by Slack; retry after ${Math.ceil(wait / 1000)} s`,
      };
    }
    const parts = renderMessage(message);
    const progress = this.progress.get(idempotencyKey) ?? { parts: 0, images: 0 };
    this.progress.set(idempotencyKey, progress);
    try {
      while (progress.parts < parts.length) {
        const part = parts[progress.parts] as (typeof parts)[number];
        const result = await client.chat.postMessage({
          channel,
          text: part.text,
          blocks: asKnownBlocks(part.blocks),
          unfurl_links: false,
          unfurl_media: false,
          metadata: { event_type: "trainops_alert", event_payload: { key: idempotencyKey } },
          ...(progress.ts ? { thread_ts: progress.ts } : {}),
        });
        progress.ts ??= result.ts;
        progress.parts += 1;
      }
      const images = message.images ?? [];
      while (progress.images < images.length) {
        const image = images[progress.images] as (typeof images)[number];
        await this.upload(channel, progress.ts, image);
        progress.images += 1;
      }
    } catch (error) {
      const failure = deliveryFailure(error);
      if (!failure.ok && failure.retryable && failure.retryAfterMs !== undefined) {
        this.blockedUntil = clock.now() + failure.retryAfterMs;
      }
      if (!failure.ok && !failure.retryable) this.progress.delete(idempotencyKey);
      return failure;
    }
    this.progress.delete(idempotencyKey);
    this.remember(idempotencyKey);
    return { ok: true };
  }

  private async upload(
    channel: string,
    threadTs: string | undefined,
    image: MessageImage,
  ): Promise<void> {
    try {
      await uploadChart(this.options.client, channel, threadTs, image);
    } catch (error) {
      // The alert text is out; a chart that can never be uploaded (no files:write) is not worth
      // holding the alert back for, but a passing failure is retried like any other.
      const failure = classifySlackError(error);
      if (failure.kind !== "permanent") throw error;
      this.options.log.warn(`alert chart ${image.name} not uploaded: ${failure.error}`);
    }
  }

  private remember(key: string): void {
    this.delivered.add(key);
    if (this.delivered.size > DELIVERED_MEMORY) {
      const oldest = this.delivered.values().next().value as string;
      this.delivered.delete(oldest);
    }
  }
}
