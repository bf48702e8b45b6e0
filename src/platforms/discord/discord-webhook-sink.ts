import type { WebhookFile } from "../../alerts/sinks/http-delivery.ts";
import { WebhookSink } from "../../alerts/sinks/webhook-sink.ts";
import type { Message } from "../../message/message.ts";
import { type RenderedMessage, renderMessage } from "./render-message.ts";

/**
 * Posts alerts to a Discord webhook (`?wait=true`, so a 2xx means the message exists). Pings
 * only the message's mentions: `allowed_mentions` lists exactly those ids and parses nothing.
 */
export class DiscordWebhookSink extends WebhookSink {
  protected payload(message: Message): Record<string, unknown> {
    return discordPayload(message);
  }

  protected override files(message: Message): WebhookFile[] {
    return renderForWebhook(message).files.map(({ name, data }) => ({ name, png: data }));
  }

  protected override target(): string {
    const target = new URL(this.url);
    target.searchParams.set("wait", "true");
    return target.toString();
  }
}

/**
 * The webhook body for a message: the bot's own rendering (one renderer for Discord, so a message
 * looks the same whichever way it came), without buttons: nothing answers a webhook's buttons.
 */
export function discordPayload(message: Message): Record<string, unknown> {
  const rendered = renderForWebhook(message);
  return {
    content: rendered.content,
    embeds: rendered.embeds,
    allowed_mentions: {
      parse: [],
      users: rendered.allowedMentions.users,
      roles: rendered.allowedMentions.roles,
    },
    ...(rendered.files.length
      ? {
          attachments: rendered.files.map((f, id) => ({
            id,
            filename: f.name,
            description: f.description,
          })),
        }
      : {}),
  };
}

function renderForWebhook(message: Message): RenderedMessage {
  const { buttons: _buttons, ...rest } = message;
  return renderMessage({ ...rest, ephemeral: false }, { titleInContent: true });
}
