import * as z from "zod";
import { channelSchedule } from "./channel-schedule-schema.js";
import { duration, secret, severity } from "./schema-primitives.js";

/** The `alerts:` block: alert channels (webhooks, e-mail, console) and per-rule settings. */

/** Keys every alert channel takes: which alerts it gets. */
const channelFilter = {
  severities: z
    .array(severity)
    .optional()
    .describe(
      "Only alerts of these severities (a resolution counts with the severity it resolves); default: all",
    ),
  runs: z.array(z.string()).optional().describe("Only alerts of these runs; default: all runs"),
  ...channelSchedule,
};

const webhookSchema = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("discord").describe("Discord incoming webhook"),
      url: z.string().url().describe("Discord webhook URL (a secret)"),
      ...channelFilter,
    })
    .strict(),
  z
    .object({
      kind: z.literal("slack").describe("Slack incoming webhook"),
      url: z.string().url().describe("Slack incoming-webhook URL (a secret)"),
      ...channelFilter,
    })
    .strict(),
  z
    .object({
      kind: z.literal("json").describe("Generic JSON webhook (versioned payload, HMAC signature)"),
      url: z
        .string()
        .url()
        .describe("Receiver URL; gets the versioned JSON payload (docs/json-webhook.md)"),
      secret: secret("HMAC-SHA256 key; requests carry x-trainops-signature").optional(),
      ...channelFilter,
    })
    .strict(),
  z
    .object({
      kind: z.literal("ntfy").describe("ntfy topic"),
      url: z.string().url().describe("Topic URL, e.g. https://ntfy.sh/my-training-alerts"),
      token: secret("Access token of a protected topic (tk_…)").optional(),
      ...channelFilter,
    })
    .strict(),
  z
    .object({
      kind: z.literal("telegram").describe("Telegram bot (Bot API sendMessage)"),
      url: z.string().url().default("https://api.telegram.org").describe("Bot API base URL"),
      token: secret("Bot token from @BotFather"),
      chatId: z
        .union([z.string().min(1), z.number().int()])
        .transform(String)
        .describe("Chat id (negative for groups) or @channelusername"),
      ...channelFilter,
    })
    .strict(),
  z
    .object({
      kind: z.literal("pagerduty").describe("PagerDuty Events API v2"),
      url: z
        .string()
        .url()
        .default("https://events.pagerduty.com")
        .describe("Events API v2 base URL (https://events.eu.pagerduty.com in the EU)"),
      routingKey: secret("Integration (routing) key of an Events API v2 integration"),
      ...channelFilter,
    })
    .strict(),
  z
    .object({
      kind: z.literal("opsgenie").describe("Opsgenie Alert API"),
      url: z
        .string()
        .url()
        .default("https://api.opsgenie.com")
        .describe("Alert API base URL (https://api.eu.opsgenie.com in the EU)"),
      apiKey: secret("API key of an Opsgenie API integration"),
      ...channelFilter,
    })
    .strict(),
  z
    .object({
      kind: z.literal("alertmanager").describe("Prometheus Alertmanager API v2"),
      url: z
        .string()
        .url()
        .describe("Alertmanager base URL, e.g. http://alertmanager:9093 (posts to /api/v2/alerts)"),
      token: secret("Bearer token for an Alertmanager behind an authenticating proxy").optional(),
      ...channelFilter,
    })
    .strict(),
]);

const emailSchema = z
  .object({
    host: z.string().min(1).describe("SMTP server host"),
    port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .default(587)
      .describe("SMTP port: 587 (submission, STARTTLS), 465 (TLS) or 25; default 587"),
    secure: z
      .boolean()
      .optional()
      .describe("TLS from the first byte; default true on port 465, else STARTTLS when offered"),
    requireTls: z
      .boolean()
      .default(false)
      .describe("Refuse to send unless the server offers STARTTLS; default false"),
    user: z.string().min(1).optional().describe("SMTP login"),
    password: secret("SMTP password").optional(),
    from: z.string().min(3).describe('Sender, e.g. "trainops <trainops@example.com>"'),
    to: z.array(z.string().min(3)).min(1).describe("Recipients"),
    timeout: duration.default("10s").describe("SMTP connection and answer timeout; default 10s"),
    ...channelFilter,
  })
  .strict();

export const alertsSchema = z
  .object({
    webhooks: z
      .array(webhookSchema)
      .default([])
      .describe(
        "Alert channels: discord, slack, json, ntfy, telegram, pagerduty, opsgenie, alertmanager",
      ),
    email: emailSchema.optional().describe("Alerts by e-mail over SMTP"),
    console: z
      .boolean()
      .default(true)
      .describe("Print alerts on stdout and in the console front end"),
    groupWindow: duration.default("5s").describe("Alerts within this window go as one message"),
    rules: z
      .record(z.string(), z.record(z.string(), z.unknown()))
      .default({})
      .describe("Per-rule settings keyed by rule name; see the README"),
  })
  .strict();
