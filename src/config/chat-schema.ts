import * as z from "zod";
import { channelSchedule } from "./channel-schedule-schema.js";

/** The `discord:` and `slack:` blocks: the chat bots, their channels and operators. */

const operatorsDiscord = z
  .object({
    users: z.array(z.string()).default([]).describe("Discord user ids allowed to change runs"),
    roles: z.array(z.string()).default([]).describe("Discord role ids allowed to change runs"),
  })
  .strict();

export const discordSchema = z
  .object({
    token: z
      .string()
      .optional()
      .describe(
        "Bot token (a secret: write it as $DISCORD_TOKEN substitution); the bot starts when it is set",
      ),
    applicationId: z
      .string()
      .regex(/^\d{5,25}$/, "a numeric Discord id (snowflake)")
      .optional()
      .describe("The application's id, for registering /train"),
    guildId: z
      .string()
      .regex(/^\d{5,25}$/, "a numeric Discord id (snowflake)")
      .optional()
      .describe("Register /train in this server only (instant), instead of globally"),
    alertChannel: z
      .string()
      .regex(/^\d{5,25}$/, "a numeric Discord channel id")
      .optional()
      .describe("Channel id the bot posts alerts in"),
    allowedChannels: z
      .array(z.string())
      .optional()
      .describe("Channel ids where /train answers (default: everywhere)"),
    operators: operatorsDiscord
      .default({ users: [], roles: [] })
      .describe("Who may run mutating commands"),
    apiUrl: z.string().url().default("https://discord.com/api").describe("Discord REST API base"),
    mentions: z
      .record(z.string(), z.array(z.string()))
      .optional()
      .describe("User/role ids to mention per alert severity, e.g. critical: ['123…']"),
    ...channelSchedule,
  })
  .strict();

export const slackSchema = z
  .object({
    botToken: z
      .string()
      .optional()
      .describe(
        "Bot token xoxb-… (a secret: write it as $SLACK_BOT_TOKEN substitution); the bot starts when set",
      ),
    appToken: z.string().optional().describe("App-level token xapp-… for Socket Mode (a secret)"),
    signingSecret: z.string().optional().describe("Signing secret for HTTP mode (a secret)"),
    mode: z
      .enum(["socket", "http"])
      .default("socket")
      .describe("socket: no public URL needed; http: Slack calls this host on port"),
    port: z.number().int().min(1).max(65535).default(3000).describe("HTTP mode's port"),
    alertChannel: z.string().optional().describe("Channel id the bot posts alerts in"),
    allowedChannels: z
      .array(z.string())
      .optional()
      .describe("Channel ids where /train answers (default: everywhere)"),
    operators: z
      .object({
        users: z
          .array(z.string())
          .default([])
          .describe("Slack user ids (U…) allowed to change runs"),
        userGroups: z
          .array(z.string())
          .default([])
          .describe("Slack user-group ids (S…) allowed to change runs"),
      })
      .strict()
      .default({ users: [], userGroups: [] })
      .describe("Who may run mutating commands"),
    apiUrl: z.string().url().default("https://slack.com/api/").describe("Slack Web API base"),
    mentions: z
      .record(z.string(), z.array(z.string()))
      .optional()
      .describe("User/group ids to mention per alert severity"),
    ...channelSchedule,
  })
  .strict();

/** The `discord:` block. */
export type DiscordConfig = z.infer<typeof discordSchema>;
/** The `slack:` block. */
export type SlackConfig = z.infer<typeof slackSchema>;
