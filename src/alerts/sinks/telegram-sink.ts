import type { Message, Severity } from "../../message/message.ts";
import type { AlertSink, DeliveryResult } from "./alert-sink.ts";
import { clip } from "./http-delivery.ts";
import { type HttpSinkSeams, joinUrl, postJsonWith } from "./json-post.ts";
import { plainBody } from "./plain-body.ts";

/** Telegram's limit on one message's text. */
const TEXT_LIMIT = 4096;

const MARK: Record<Severity, string> = {
  critical: "🔴",
  warning: "⚠️",
  info: "ℹ️",
  success: "✅",
};

/** Settings of a Telegram bot posting into one chat. */
export interface TelegramSettings {
  /** Bot API base, `https://api.telegram.org` unless you run a local Bot API server. */
  url: string;
  /** The bot's token from @BotFather (a secret: it is part of the request path). */
  token: string;
  /** Chat id (a number, negative for groups) or `@channelusername`. */
  chatId: string;
}

/**
 * Sends alerts as a Telegram bot with the Bot API's `sendMessage`, as plain text (no parse
 * mode, so log lines need no escaping). The token is part of the URL; errors never show it.
 */
export class TelegramSink implements AlertSink {
  constructor(
    readonly name: string,
    private readonly settings: TelegramSettings,
    private readonly seams: HttpSinkSeams = {},
  ) {}

  deliver(message: Message, idempotencyKey: string): Promise<DeliveryResult> {
    const body = plainBody(message, TEXT_LIMIT);
    const text = clip(
      `${MARK[message.severity]} ${message.title}${body ? `\n\n${body}` : ""}`,
      TEXT_LIMIT,
    );
    const url = joinUrl(this.settings.url, `bot${this.settings.token}/sendMessage`);
    return postJsonWith(
      this.seams,
      url,
      {},
      {
        chat_id: this.settings.chatId,
        text,
        disable_web_page_preview: true,
        disable_notification: message.severity === "success" || message.severity === "info",
      },
      idempotencyKey,
    );
  }
}
