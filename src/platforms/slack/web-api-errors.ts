import { webApi } from "@slack/bolt";
import type { DeliveryResult } from "../../alerts/sinks/alert-sink.ts";

const { ErrorCode } = webApi;

/** Slack error codes that no retry will fix: the token, the channel or the app setup is wrong. */
const PERMANENT = new Map<string, string>([
  ["invalid_auth", "the bot token was rejected: check SLACK_BOT_TOKEN"],
  ["not_authed", "no bot token was sent: set SLACK_BOT_TOKEN"],
  ["account_inactive", "the bot token belongs to a deactivated app or user: reinstall the app"],
  ["token_revoked", "the bot token was revoked: reinstall the app and update SLACK_BOT_TOKEN"],
  ["token_expired", "the bot token expired: reinstall the app and update SLACK_BOT_TOKEN"],
  [
    "channel_not_found",
    "the channel does not exist or the bot cannot see it: check slack.alertChannel",
  ],
  ["not_in_channel", "the bot is not in the channel: /invite the app there"],
  ["is_archived", "the channel is archived: pick another slack.alertChannel"],
  ["missing_scope", "the app lacks a scope: recreate it from configs/slack-app-manifest.yaml"],
  ["restricted_action", "the workspace does not let the bot post there"],
  ["invalid_blocks", "Slack refused the message layout"],
  ["msg_too_long", "the message is longer than Slack allows"],
  ["invalid_arguments", "Slack refused the request arguments"],
]);

interface SlackErrorLike {
  code?: string;
  data?: { error?: string; response_metadata?: { messages?: string[] } };
  retryAfter?: number;
  statusCode?: number;
  message?: string;
}

/** A Web API failure sorted by what to do about it. */
export type SlackFailure =
  | { kind: "rate-limited"; retryAfterMs: number; error: string }
  | { kind: "transient"; error: string }
  | { kind: "permanent"; error: string };

/** Sorts an error thrown by @slack/web-api: 429, 5xx and network are worth another try. */
export function classifySlackError(error: unknown): SlackFailure {
  const e = (error ?? {}) as SlackErrorLike;
  if (e.code === ErrorCode.RateLimitedError) {
    const seconds = e.retryAfter ?? 1;
    return {
      kind: "rate-limited",
      retryAfterMs: seconds * 1000,
      error: `rate limited by Slack; retry after ${seconds} s`,
    };
  }
  if (e.code === ErrorCode.PlatformError) {
    const code = e.data?.error ?? "unknown_error";
    const detail = e.data?.response_metadata?.messages?.join("; ");
    const hint = PERMANENT.get(code);
    const text = `Slack answered ${code}${hint ? `: ${hint}` : ""}${detail ? ` (${detail})` : ""}`;
    if (code === "ratelimited") return { kind: "rate-limited", retryAfterMs: 1000, error: text };
    return hint ? { kind: "permanent", error: text } : { kind: "transient", error: text };
  }
  if (e.code === ErrorCode.HTTPError) {
    const status = e.statusCode ?? 0;
    const text = `Slack answered HTTP ${status}`;
    return status >= 500 || status === 408
      ? { kind: "transient", error: text }
      : { kind: "permanent", error: text };
  }
  if (e.code === ErrorCode.RequestError) {
    return { kind: "transient", error: `Slack unreachable: ${e.message ?? "request failed"}` };
  }
  return { kind: "transient", error: e.message ?? String(error) };
}

/** The same sorting, as the outbox wants it. */
export function deliveryFailure(error: unknown): DeliveryResult {
  const failure = classifySlackError(error);
  if (failure.kind === "rate-limited") {
    return { ok: false, retryable: true, retryAfterMs: failure.retryAfterMs, error: failure.error };
  }
  return { ok: false, retryable: failure.kind === "transient", error: failure.error };
}
