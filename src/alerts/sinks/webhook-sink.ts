import type { Message } from "../../message/message.ts";
import type { AlertSink, DeliveryResult } from "./alert-sink.ts";
import {
  type FetchLike,
  postJson,
  postMultipart,
  WEBHOOK_TIMEOUT_MS,
  type WebhookFile,
} from "./http-delivery.ts";

/**
 * An alert sink that POSTs one JSON body per message to a webhook URL; a platform's sink says
 * what the body is and, where the platform needs it, which URL to post to. Webhooks carry no
 * idempotency key a platform honours, so the sink is not `idempotent`.
 */
export abstract class WebhookSink implements AlertSink {
  constructor(
    readonly name: string,
    protected readonly url: string,
    private readonly fetchImpl: FetchLike = fetch,
    private readonly timeoutMs = WEBHOOK_TIMEOUT_MS,
  ) {}

  deliver(message: Message, idempotencyKey: string): Promise<DeliveryResult> {
    const files = this.files(message);
    const payload = this.payload(message);
    return files.length
      ? postMultipart(this.fetchImpl, this.target(), payload, files, idempotencyKey, this.timeoutMs)
      : postJson(this.fetchImpl, this.target(), payload, idempotencyKey, this.timeoutMs);
  }

  /** The webhook body for `message`, within the platform's limits. */
  protected abstract payload(message: Message): Record<string, unknown>;

  /** Files the platform takes with the message (charts); none unless the platform can. */
  protected files(_message: Message): WebhookFile[] {
    return [];
  }

  /** The URL the body goes to: the webhook URL itself unless the platform wants parameters. */
  protected target(): string {
    return this.url;
  }
}
