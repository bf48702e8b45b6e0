import { createHash } from "node:crypto";
import { DiscordAPIError, HTTPError, RateLimitError, type REST, Routes } from "discord.js";
import type { AlertSink, DeliveryResult } from "../../alerts/sinks/alert-sink.ts";
import type { Message } from "../../message/message.ts";
import { channelMessageBody } from "./discord-payload.ts";
import { renderMessage } from "./render-message.ts";

/**
 * A nonce for Discord's `enforce_nonce`: stable per alert and at most 25 characters, so every
 * retry of one alert carries the same one.
 */
export function nonceFor(idempotencyKey: string): string {
  return createHash("sha256").update(idempotencyKey).digest("base64url").slice(0, 25);
}

/** What Discord's error codes mean for whoever reads the alert log, with the fix. */
function explainRefusal(error: DiscordAPIError, channelId: string): string {
  const said = `Discord answered ${error.status} (${error.code}: ${error.message})`;
  switch (error.status) {
    case 401:
      return `${said}: the bot token was rejected; set DISCORD_TOKEN to the token from the Developer Portal (Bot → Reset Token)`;
    case 403:
      return `${said}: the bot may not post in channel ${channelId}; give it View Channel, Send Messages, Embed Links and Attach Files there (or invite it with the URL from 'trainops discord register')`;
    case 404:
      return `${said}: channel ${channelId} does not exist or the bot cannot see it; check discord.alertChannel`;
    default:
      return `${said}: the alert was refused as sent`;
  }
}

/** Maps a failed post to a delivery result: retry on 429, 5xx and network trouble only. */
export function classifyDeliveryError(error: unknown, channelId: string): DeliveryResult {
  if (error instanceof RateLimitError) {
    return {
      ok: false,
      retryable: true,
      retryAfterMs: error.retryAfter,
      error: `rate limited by Discord for ${Math.ceil(error.retryAfter / 1000)} s`,
    };
  }
  if (error instanceof DiscordAPIError) {
    if (error.status === 429 || error.status >= 500) {
      return { ok: false, retryable: true, error: `Discord answered ${error.status}` };
    }
    return { ok: false, retryable: false, error: explainRefusal(error, channelId) };
  }
  if (error instanceof HTTPError) {
    return {
      ok: false,
      retryable: true,
      error: `Discord answered ${error.status} ${error.message}`,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { ok: false, retryable: true, error: `could not reach Discord: ${message}` };
}

export interface DiscordAlertSinkOptions {
  rest: REST;
  /** `discord.alertChannel`; without it every delivery fails with a message saying so. */
  channelId: string | undefined;
}

/**
 * Posts alerts to the configured channel over REST (independent of the gateway, so alerts flow
 * during a gateway reconnect). Mentions are pinged and nothing else; discord.js waits out
 * short 429s itself, and each alert carries a nonce Discord de-duplicates on.
 */
export class DiscordAlertSink implements AlertSink {
  readonly name = "discord-bot";
  /** Discord posts a repeated `nonce` with `enforce_nonce` once. */
  readonly idempotent = true;

  constructor(private readonly options: DiscordAlertSinkOptions) {}

  async deliver(message: Message, idempotencyKey: string): Promise<DeliveryResult> {
    const channelId = this.options.channelId;
    if (!channelId) {
      return {
        ok: false,
        retryable: false,
        error:
          "discord.alertChannel is not set: add the channel id (Developer Mode → right-click the channel → Copy Channel ID)",
      };
    }
    // Alerts are for the whole channel even when the source marked them private.
    const rendered = renderMessage({ ...message, ephemeral: false }, { titleInContent: true });
    const { body, files } = channelMessageBody(rendered, nonceFor(idempotencyKey));
    try {
      await this.options.rest.post(Routes.channelMessages(channelId), { body, files });
      return { ok: true };
    } catch (error) {
      return classifyDeliveryError(error, channelId);
    }
  }
}
