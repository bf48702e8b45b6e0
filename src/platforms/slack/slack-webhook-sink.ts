import { isDiscordId } from "../../alerts/mentions.ts";
import { WebhookSink } from "../../alerts/sinks/webhook-sink.ts";
import type { Message } from "../../message/message.ts";
import { renderMessage, type SlackMessagePart } from "./block-kit.ts";

/** Posts alerts to a Slack incoming webhook as a fallback `text` plus blocks. */
export class SlackWebhookSink extends WebhookSink {
  protected payload(message: Message): Record<string, unknown> {
    return slackPayload(message);
  }
}

/**
 * The webhook body for a message: the bot's own Block Kit rendering (one renderer for Slack, so a
 * message looks the same whichever way it came), without buttons, since the app that would
 * answer a webhook's presses may not be running. A webhook posts one message: a message too big
 * for one keeps its first part, which says how much was cut.
 */
export function slackPayload(message: Message): Record<string, unknown> {
  const { buttons: _buttons, mentions, ...rest } = message;
  // Mentions carry every platform's ids; Slack's are the U…/S… ones, not Discord's numbers.
  const slackIds = (ids: string[] | undefined) => (ids ?? []).filter((id) => !isDiscordId(id));
  const parts = renderMessage({
    ...rest,
    ...(mentions
      ? { mentions: { users: slackIds(mentions.users), roles: slackIds(mentions.roles) } }
      : {}),
    ephemeral: false,
  });
  const first = parts[0] as SlackMessagePart;
  if (parts.length > 1)
    first.blocks.push({
      type: "context",
      elements: [
        {
          type: "mrkdwn",
          text: `_${parts.length - 1} more part(s) not sent: a webhook posts one message._`,
        },
      ],
    } as SlackMessagePart["blocks"][number]);
  return { text: first.text, blocks: first.blocks };
}
