import { isDiscordId } from "../../alerts/mentions.ts";
import { clip, type WebhookFile } from "../../alerts/sinks/http-delivery.ts";
import { WebhookSink } from "../../alerts/sinks/webhook-sink.ts";
import type { Message, MessageImage, Severity } from "../../message/message.ts";
import { DISCORD_LIMITS } from "./discord-limits.ts";

const COLOR: Record<Severity, number> = {
  info: 0x3498db,
  success: 0x2ecc71,
  warning: 0xf1c40f,
  critical: 0xe74c3c,
};

/**
 * Posts alerts to a Discord webhook (`?wait=true`, so a 2xx means the message exists). Pings
 * only the message's mentions: `allowed_mentions` lists exactly those ids and parses nothing.
 */
export class DiscordWebhookSink extends WebhookSink {
  protected payload(message: Message): Record<string, unknown> {
    return discordPayload(message);
  }

  protected override files(message: Message): WebhookFile[] {
    return webhookImages(message).map(({ name, png }) => ({ name, png }));
  }

  protected override target(): string {
    const target = new URL(this.url);
    target.searchParams.set("wait", "true");
    return target.toString();
  }
}

/** The webhook body for a message, within Discord's limits. */
export function discordPayload(message: Message): Record<string, unknown> {
  const users = (message.mentions?.users ?? []).filter(isDiscordId);
  const roles = (message.mentions?.roles ?? []).filter(isDiscordId);
  const pings = [...users.map((u) => `<@${u}>`), ...roles.map((r) => `<@&${r}>`)].join(" ");
  const description = [
    ...(message.lines ?? []),
    ...(message.code ? [`\`\`\`\n${clip(message.code.replace(/```/g, "'''"), 1500)}\n\`\`\``] : []),
  ].join("\n");
  const embed: Record<string, unknown> = {
    title: clip(message.title, DISCORD_LIMITS.title),
    color: COLOR[message.severity],
  };
  // Discord rejects an embed over 6000 characters in total: the description comes first,
  // fields take what is left and are dropped once nothing useful fits.
  let budget = DISCORD_LIMITS.embedTotal - (embed.title as string).length;
  const footer = message.footer ? clip(message.footer, 300) : undefined;
  if (footer) {
    embed.footer = { text: footer };
    budget -= footer.length;
  }
  if (description) {
    embed.description = clip(description, Math.min(DISCORD_LIMITS.description, budget));
    budget -= (embed.description as string).length;
  }
  const fields: Array<{ name: string; value: string; inline: boolean }> = [];
  for (const f of (message.fields ?? []).slice(0, DISCORD_LIMITS.fields)) {
    const name = clip(f.name, DISCORD_LIMITS.fieldName);
    const room = Math.min(DISCORD_LIMITS.fieldValue, budget - name.length);
    if (room < 16) break;
    const value = clip(f.value || "-", room);
    fields.push({ name, value, inline: f.inline ?? false });
    budget -= name.length + value.length;
  }
  if (fields.length) embed.fields = fields;
  // A chart is sent as an attachment (files[0]) and shown inside the embed.
  const image = webhookImages(message)[0];
  if (image) embed.image = { url: `attachment://${image.name}` };
  return {
    content: clip(pings ? `${pings} ${message.title}` : message.title, DISCORD_LIMITS.content),
    embeds: [embed],
    allowed_mentions: { parse: [], users, roles },
    ...(image
      ? { attachments: [{ id: 0, filename: image.name, description: clip(image.alt, 1024) }] }
      : {}),
  };
}

/** The one chart a webhook message carries (the embed shows one image). */
function webhookImages(message: Message): MessageImage[] {
  return (message.images ?? []).slice(0, 1);
}
