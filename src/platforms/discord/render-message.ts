import { isDiscordId } from "../../alerts/mentions.ts";
import type { Message, MessageButton, MessageField, Severity } from "../../message/message.ts";
import { CUT_MARKER, DISCORD_LIMITS as L, truncate } from "./discord-limits.ts";
import { fitCodeBlock, fitTable, progressText, tableText } from "./render-text.ts";

/** Embed colours by severity: blue, green, amber, red. */
export const SEVERITY_COLOURS: Record<Severity, number> = {
  info: 0x3b82f6,
  success: 0x22c55e,
  warning: 0xf59e0b,
  critical: 0xef4444,
};

/** Message flag: only the person who asked sees it. */
export const EPHEMERAL_FLAG = 64;

export interface RenderedEmbed {
  title?: string;
  description?: string;
  color: number;
  fields?: { name: string; value: string; inline?: boolean }[];
  footer?: { text: string };
  image?: { url: string };
}

export interface RenderedButtonRow {
  type: 1;
  components: { type: 2; style: 1 | 2 | 4; label: string; custom_id: string }[];
}

export interface RenderedFile {
  name: string;
  data: Buffer;
  description: string;
}

/**
 * A neutral message in Discord's terms, already within every limit: the JSON parts use the API's
 * own field names so they pass through discord.js and raw REST alike.
 */
export interface RenderedMessage {
  content: string;
  embeds: RenderedEmbed[];
  components: RenderedButtonRow[];
  files: RenderedFile[];
  allowedMentions: { parse: []; users: string[]; roles: string[] };
  ephemeral: boolean;
}

export interface RenderOptions {
  /** Put the title in the content too, so push notifications say what happened (alerts). */
  titleInContent?: boolean;
}

const BUTTON_STYLES = { primary: 1, secondary: 2, danger: 4 } as const;

/** Attachment names Discord keeps as given; `attachment://` references must match exactly. */
function attachmentName(name: string, index: number): string {
  const clean = name.replace(/[^A-Za-z0-9._-]/g, "_").slice(-80);
  return clean.length > 0 ? clean : `image-${index}.png`;
}

function renderFields(fields: MessageField[], budget: number): RenderedEmbed["fields"] {
  const out: NonNullable<RenderedEmbed["fields"]> = [];
  let used = 0;
  for (const [i, field] of fields.entries()) {
    const name = truncate(field.name.trim() || "—", L.fieldName);
    const value = truncate(field.value.trim() || "—", L.fieldValue);
    const room = out.length < L.fields - 1 || i === fields.length - 1;
    if (!room || used + name.length + value.length > budget - 40) {
      const left = fields.length - i;
      out.push({ name: "…", value: `${left} more field${left === 1 ? "" : "s"} not shown` });
      break;
    }
    used += name.length + value.length;
    out.push({ name, value, ...(field.inline ? { inline: true } : {}) });
  }
  return out;
}

function textLength(embed: RenderedEmbed): number {
  return (
    (embed.title?.length ?? 0) +
    (embed.description?.length ?? 0) +
    (embed.footer?.text.length ?? 0) +
    (embed.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0)
  );
}

/** The description: lines, progress bars, table and code, fitted into `budget` characters. */
function renderDescription(message: Message, budget: number): string | undefined {
  const max = Math.min(L.description, budget);
  const plain = [...(message.lines ?? []), ...(message.progress ?? []).map(progressText)];
  // Blocks (table, code) are given up to half the room, so long prose cannot crowd them out.
  const blocks =
    (message.table ? tableText(message.table).length + 16 : 0) +
    (message.code !== undefined ? message.code.length + 16 : 0);
  let text = truncate(plain.join("\n"), max - Math.min(blocks, Math.floor(max / 2)));
  const room = (): number => max - text.length - (text ? 1 : 0);
  const append = (block: string | undefined): void => {
    // A block that does not fit at all is named as cut rather than dropped silently.
    const piece = block ?? (room() >= CUT_MARKER.length ? CUT_MARKER : undefined);
    if (piece) text = text ? `${text}\n${piece}` : piece;
  };
  if (message.table) append(fitTable(message.table, room()));
  if (message.code !== undefined) append(fitCodeBlock(message.code, room()));
  return text.length > 0 ? text : undefined;
}

function renderButtons(buttons: MessageButton[]): RenderedButtonRow[] {
  const usable = buttons.filter((b) => b.id.length > 0 && b.id.length <= L.customId);
  const rows: RenderedButtonRow[] = [];
  for (let i = 0; i < usable.length && rows.length < L.actionRows; i += L.buttonsPerRow) {
    rows.push({
      type: 1,
      components: usable.slice(i, i + L.buttonsPerRow).map((b) => ({
        type: 2,
        style: BUTTON_STYLES[b.style],
        label: truncate(b.label, L.buttonLabel, "…"),
        custom_id: b.id,
      })),
    });
  }
  return rows;
}

/**
 * Renders a neutral message for Discord: one embed (title, description with bars, table and code,
 * fields, footer, colour by severity), the first chart inside it and further charts in image-only
 * embeds, buttons in action rows, and mentions in the content with `allowed_mentions` naming
 * exactly those ids (`parse: []`, so nothing else in the text can ping anyone).
 */
export function renderMessage(message: Message, options: RenderOptions = {}): RenderedMessage {
  // Mentions carry every platform's ids; Discord's are the numeric ones (Slack's U…/S… are not).
  const ids = (list: string[] | undefined) =>
    [...new Set((list ?? []).filter(isDiscordId))].slice(0, L.allowedMentionIds);
  const users = ids(message.mentions?.users);
  const roles = ids(message.mentions?.roles);
  const pings = [...roles.map((id) => `<@&${id}>`), ...users.map((id) => `<@${id}>`)].join(" ");
  const heading = options.titleInContent ? `**${truncate(message.title, L.title)}**` : "";
  const content = truncate([pings, heading].filter(Boolean).join(" "), L.content);

  const embed: RenderedEmbed = {
    title: truncate(message.title, L.title),
    color: SEVERITY_COLOURS[message.severity],
  };
  if (message.footer) embed.footer = { text: truncate(message.footer, L.footer) };
  const fixed = textLength(embed);
  if (message.fields?.length) {
    embed.fields = renderFields(message.fields, L.embedTotal - fixed - 200);
  }
  const description = renderDescription(message, L.embedTotal - textLength(embed));
  if (description) embed.description = description;

  const images = (message.images ?? []).slice(0, L.embedsPerMessage);
  const files = images.map((image, i) => ({
    name: attachmentName(image.name, i),
    data: image.png,
    description: truncate(image.alt, 1024, "…"),
  }));
  const embeds: RenderedEmbed[] = [embed];
  files.forEach((file, i) => {
    const url = `attachment://${file.name}`;
    if (i === 0) embed.image = { url };
    else embeds.push({ color: embed.color, image: { url } });
  });

  return {
    content,
    embeds,
    components: renderButtons(message.buttons ?? []),
    files,
    allowedMentions: { parse: [], users, roles },
    ephemeral: message.ephemeral === true,
  };
}
