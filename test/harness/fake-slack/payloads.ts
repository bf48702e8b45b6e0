import { createHmac } from "node:crypto";

/** Team, app and people of the fake workspace. */
export const FAKE_TEAM = { id: "T0FAKE0001", domain: "trainops-test" } as const;
export const FAKE_APP_ID = "A0FAKE0001";
export const FAKE_BOT = { userId: "U0BOT00001", botId: "B0BOT00001" } as const;

/** A slash command as a person types it. */
export interface SlashCommandInput {
  text: string;
  userId: string;
  userName?: string;
  channelId?: string;
  channelName?: string;
  command?: string;
}

/** A click on a button of a message the bot posted. */
export interface ButtonPressInput {
  actionId: string;
  value: string;
  userId: string;
  userName?: string;
  channelId: string;
  messageTs: string;
  /** The blocks of the message the button sits in (Slack sends them back). */
  messageBlocks?: unknown[];
  buttonText?: string;
  /**
   * The button sits on a message only the presser sees (an ephemeral reply): Slack then marks
   * the container ephemeral and sends no `message` (the app never had it as a channel message).
   */
  ephemeral?: boolean;
}

/** The `slash_commands` payload, as Socket Mode wraps it and HTTP mode form-encodes it. */
export function slashCommandPayload(
  input: SlashCommandInput,
  responseUrl: string,
): Record<string, string> {
  return {
    token: "deprecated-verification-token",
    team_id: FAKE_TEAM.id,
    team_domain: FAKE_TEAM.domain,
    channel_id: input.channelId ?? "C0CHANNEL01",
    channel_name: input.channelName ?? "training",
    user_id: input.userId,
    user_name: input.userName ?? input.userId.toLowerCase(),
    command: input.command ?? "/train",
    text: input.text,
    api_app_id: FAKE_APP_ID,
    is_enterprise_install: "false",
    response_url: responseUrl,
    trigger_id: `trigger.${Date.now()}`,
  };
}

/** The `block_actions` payload of an interactive envelope / HTTP `payload=` form field. */
export function blockActionsPayload(
  input: ButtonPressInput,
  responseUrl: string,
): Record<string, unknown> {
  const userName = input.userName ?? input.userId.toLowerCase();
  return {
    type: "block_actions",
    user: { id: input.userId, username: userName, name: userName, team_id: FAKE_TEAM.id },
    api_app_id: FAKE_APP_ID,
    token: "deprecated-verification-token",
    container: {
      type: "message",
      message_ts: input.messageTs,
      channel_id: input.channelId,
      is_ephemeral: input.ephemeral === true,
    },
    trigger_id: `trigger.${Date.now()}`,
    team: { id: FAKE_TEAM.id, domain: FAKE_TEAM.domain },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: input.channelId, name: "training" },
    ...(input.ephemeral
      ? {}
      : {
          message: {
            type: "message",
            user: FAKE_BOT.userId,
            bot_id: FAKE_BOT.botId,
            ts: input.messageTs,
            text: "",
            blocks: input.messageBlocks ?? [],
          },
        }),
    state: { values: {} },
    response_url: responseUrl,
    actions: [
      {
        action_id: input.actionId,
        block_id: "actions",
        text: { type: "plain_text", text: input.buttonText ?? "Confirm", emoji: true },
        value: input.value,
        type: "button",
        action_ts: `${Date.now() / 1000}`,
      },
    ],
  };
}

/** Slack's request signature: `v0=` + HMAC-SHA256 of `v0:{timestamp}:{body}`. */
export function slackSignature(secret: string, timestampSec: number, body: string): string {
  return `v0=${createHmac("sha256", secret).update(`v0:${timestampSec}:${body}`).digest("hex")}`;
}
