import { isDiscordId } from "../../alerts/mentions.ts";
import { clip } from "../../alerts/sinks/http-delivery.ts";
import { WebhookSink } from "../../alerts/sinks/webhook-sink.ts";
import type { Message, Severity } from "../../message/message.ts";

const EMOJI: Record<Severity, string> = {
  info: ":information_source:",
  success: ":white_check_mark:",
  warning: ":warning:",
  critical: ":red_circle:",
};

/** Slack Block Kit limits that alerts can reach. */
const LIMITS = {
  blocks: 50,
  header: 150,
  section: 3000,
  fields: 10,
  fieldText: 2000,
  context: 10,
  text: 3000,
};

/** Posts alerts to a Slack incoming webhook as a fallback `text` plus blocks. */
export class SlackWebhookSink extends WebhookSink {
  protected payload(message: Message): Record<string, unknown> {
    return slackPayload(message);
  }
}

/** Escapes Slack's control characters in user-visible text. */
function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** The webhook body for a message, within Slack's block limits. */
export function slackPayload(message: Message): Record<string, unknown> {
  const users = (message.mentions?.users ?? []).filter((id) => !isDiscordId(id));
  const groups = (message.mentions?.roles ?? []).filter((id) => !isDiscordId(id));
  const pings = [...users.map((u) => `<@${u}>`), ...groups.map((g) => `<!subteam^${g}>`)].join(" ");
  const blocks: Array<Record<string, unknown>> = [
    {
      type: "header",
      text: { type: "plain_text", text: clip(message.title, LIMITS.header), emoji: true },
    },
  ];
  const body = [pings, ...(message.lines ?? []).map(esc)].filter(Boolean).join("\n");
  if (body)
    blocks.push({ type: "section", text: { type: "mrkdwn", text: clip(body, LIMITS.section) } });
  const fields = (message.fields ?? []).slice(0, LIMITS.fields);
  if (fields.length) {
    blocks.push({
      type: "section",
      fields: fields.map((f) => ({
        type: "mrkdwn",
        text: clip(`*${esc(f.name)}*\n${esc(f.value)}`, LIMITS.fieldText),
      })),
    });
  }
  if (message.code) {
    const code = esc(message.code.replace(/```/g, "'''"));
    blocks.push({
      type: "section",
      text: { type: "mrkdwn", text: `\`\`\`${clip(code, LIMITS.section - 8)}\`\`\`` },
    });
  }
  if (message.footer) {
    blocks.push({
      type: "context",
      elements: [{ type: "mrkdwn", text: clip(esc(message.footer), LIMITS.text) }],
    });
  }
  const text = clip(
    `${EMOJI[message.severity]} ${pings ? `${pings} ` : ""}${esc(message.title)}`,
    LIMITS.text,
  );
  return { text, blocks: blocks.slice(0, LIMITS.blocks) };
}
