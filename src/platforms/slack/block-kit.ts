import type { types } from "@slack/bolt";
import type { Message, MessageField, ProgressBar, Severity } from "../../message/message.ts";

/** Slack's limits for one message (https://api.slack.com/reference/block-kit/blocks). */
export const SLACK_LIMITS = {
  blocksPerMessage: 50,
  sectionText: 3000,
  fieldsPerSection: 10,
  fieldText: 2000,
  headerText: 150,
  buttonText: 75,
  messageText: 40_000,
  /** More parts than this and the rest is dropped with a marker: a reply, not a flood. */
  partsPerMessage: 4,
} as const;

/** Prefix of every action id this app puts on a button; the press handler matches it. */
export const ACTION_PREFIX = "trainops:";

/** A Block Kit block, as plain JSON. */
export type Block = Record<string, unknown>;

/** Our plain-JSON blocks, typed as the Web API client wants them. */
export function asKnownBlocks(blocks: Block[]): types.KnownBlock[] {
  return blocks as unknown as types.KnownBlock[];
}

/** One chat message: fallback `text` (notifications, screen readers) and `blocks`. */
export interface SlackMessagePart {
  text: string;
  blocks: Block[];
}

const EMOJI: Record<Severity, string> = {
  info: ":information_source:",
  success: ":white_check_mark:",
  warning: ":warning:",
  critical: ":rotating_light:",
};

const BAR_CELLS = 20;

/** Escapes the three characters mrkdwn treats as markup, so log text cannot ping or link. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Cuts `text` to `max` characters, ending with a marker that says how much was left out. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = `… (${text.length - max} more characters cut)`;
  return `${text.slice(0, Math.max(0, max - marker.length))}${marker}`;
}

function mentionTokens(message: Message): string[] {
  const users = message.mentions?.users ?? [];
  const groups = message.mentions?.roles ?? [];
  return [...users.map((id) => `<@${id}>`), ...groups.map((id) => `<!subteam^${id}>`)];
}

/** `<@U…>` and `<!subteam^S…>` for the ids the message allows to ping. */
export function mentionText(message: Message): string {
  return mentionTokens(message).join(" ");
}

/**
 * Escapes message text, then lets through exactly the mentions the message allows: a line may
 * name the person (`Only <@U…> can confirm`) without any other text being able to ping.
 */
function escapeWithMentions(text: string, message: Message): string {
  let out = escapeMrkdwn(text);
  for (const token of mentionTokens(message)) out = out.split(escapeMrkdwn(token)).join(token);
  // Channel links (`<#C…>`) notify nobody, so they stay clickable.
  return out.replace(/&lt;#([CG][A-Z0-9]{2,})&gt;/g, "<#$1>");
}

/** A text progress bar: `████░░░░ 549/4000 (13.7%)`. */
export function progressLine(bar: ProgressBar): string {
  const ratio = bar.max > 0 ? Math.min(1, Math.max(0, bar.value / bar.max)) : 0;
  const filled = Math.round(ratio * BAR_CELLS);
  const cells = `${"█".repeat(filled)}${"░".repeat(BAR_CELLS - filled)}`;
  const caption = bar.caption ?? `${bar.value}/${bar.max} (${(ratio * 100).toFixed(1)}%)`;
  return `*${escapeMrkdwn(bar.label)}*  \`${cells}\` ${escapeMrkdwn(caption)}`;
}

function section(text: string): Block {
  return { type: "section", text: { type: "mrkdwn", text } };
}

/** Splits text into pieces of at most `max` characters, at line ends where it can. */
function splitText(text: string, max: number): string[] {
  const pieces: string[] = [];
  let current = "";
  for (const rawLine of text.split("\n")) {
    let line = rawLine;
    while (line.length > max) {
      if (current) pieces.push(current);
      current = "";
      pieces.push(line.slice(0, max));
      line = line.slice(max);
    }
    const joined = current ? `${current}\n${line}` : line;
    if (joined.length > max) {
      pieces.push(current);
      current = line;
    } else {
      current = joined;
    }
  }
  if (current) pieces.push(current);
  return pieces;
}

/** Preformatted text as sections of ``` blocks, each within the section limit. */
function codeSections(code: string): Block[] {
  const fence = "```";
  const room = SLACK_LIMITS.sectionText - fence.length * 2 - 2;
  return splitText(escapeMrkdwn(code), room).map((piece) =>
    section(`${fence}\n${piece}\n${fence}`),
  );
}

function tableText(columns: string[], rows: string[][]): string {
  const widths = columns.map((column, i) =>
    Math.max(column.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

function fieldText(field: MessageField): string {
  return truncate(
    `*${escapeMrkdwn(field.name)}*\n${escapeMrkdwn(field.value)}`,
    SLACK_LIMITS.fieldText,
  );
}

function fieldBlocks(fields: MessageField[]): Block[] {
  const blocks: Block[] = [];
  let inline: Block[] = [];
  const flush = () => {
    if (inline.length) blocks.push({ type: "section", fields: inline });
    inline = [];
  };
  for (const field of fields) {
    if (field.inline === false) {
      flush();
      for (const piece of splitText(fieldText(field), SLACK_LIMITS.sectionText))
        blocks.push(section(piece));
      continue;
    }
    inline.push({ type: "mrkdwn", text: fieldText(field) });
    if (inline.length === SLACK_LIMITS.fieldsPerSection) flush();
  }
  flush();
  return blocks;
}

/** Short text for notifications and clients that cannot show blocks; escaped like the blocks. */
export function fallbackText(message: Message): string {
  const body = (message.lines ?? []).join("\n");
  const mentions = mentionTokens(message).filter((token) => !body.includes(token));
  const head = `${escapeMrkdwn(message.title)}${mentions.length ? ` ${mentions.join(" ")}` : ""}`;
  return truncate(
    body ? `${head}\n${escapeWithMentions(body, message)}` : head,
    SLACK_LIMITS.sectionText,
  );
}

/** Every block of a message, before splitting into parts. Images are uploaded separately. */
export function messageBlocks(message: Message): Block[] {
  const blocks: Block[] = [];
  const title = truncate(`${EMOJI[message.severity]} ${message.title}`, SLACK_LIMITS.headerText);
  blocks.push({ type: "header", text: { type: "plain_text", text: title, emoji: true } });
  const inLines = (message.lines ?? []).join("\n");
  const mentions = mentionTokens(message).filter((token) => !inLines.includes(token));
  if (mentions.length) blocks.push(section(mentions.join(" ")));
  if (message.lines?.length) {
    const text = message.lines.map((line) => escapeWithMentions(line, message)).join("\n");
    for (const piece of splitText(text, SLACK_LIMITS.sectionText)) blocks.push(section(piece));
  }
  if (message.progress?.length) {
    const text = message.progress.map(progressLine).join("\n");
    for (const piece of splitText(text, SLACK_LIMITS.sectionText)) blocks.push(section(piece));
  }
  if (message.fields?.length) blocks.push(...fieldBlocks(message.fields));
  if (message.table)
    blocks.push(...codeSections(tableText(message.table.columns, message.table.rows)));
  if (message.code) blocks.push(...codeSections(message.code));
  if (message.footer) {
    const text = truncate(escapeMrkdwn(message.footer), SLACK_LIMITS.sectionText);
    blocks.push({ type: "context", elements: [{ type: "mrkdwn", text }] });
  }
  if (message.buttons?.length) {
    blocks.push({
      type: "actions",
      block_id: "trainops_buttons",
      elements: message.buttons.map((button) => ({
        type: "button",
        action_id: `${ACTION_PREFIX}${button.id}`.slice(0, 255),
        value: button.id,
        text: { type: "plain_text", text: truncate(button.label, SLACK_LIMITS.buttonText) },
        ...(button.style === "secondary" ? {} : { style: button.style }),
      })),
    });
  }
  return blocks;
}

/**
 * Renders a neutral message as one or more Slack messages within the limits: at most 50 blocks
 * each, sections cut at line ends, and beyond {@link SLACK_LIMITS.partsPerMessage} parts the rest
 * replaced by a marker. Buttons always land in the last part, so they stay under the diff.
 */
export function renderMessage(message: Message): SlackMessagePart[] {
  const all = messageBlocks(message);
  const actions = all.filter((block) => block.type === "actions");
  const content = all.filter((block) => block.type !== "actions");
  const per = SLACK_LIMITS.blocksPerMessage;
  const max = SLACK_LIMITS.partsPerMessage;
  const chunks: Block[][] = [];
  for (let i = 0; i < content.length; i += per) chunks.push(content.slice(i, i + per));
  if (chunks.length > max) {
    const dropped = chunks.slice(max).reduce((n, chunk) => n + chunk.length, 0);
    chunks.length = max;
    const last = chunks[max - 1] as Block[];
    last.splice(
      per - 1,
      last.length,
      section(`_… ${dropped + 1} more blocks cut to stay within Slack's limits._`),
    );
  }
  const lastChunk = chunks.at(-1) as Block[];
  if (actions.length) {
    if (lastChunk.length + actions.length > per) chunks.push(actions);
    else lastChunk.push(...actions);
  }
  const text = fallbackText(message);
  return chunks.map((blocks, i) => ({
    text: i === 0 ? text : `${truncate(message.title, 100)} (${i + 1}/${chunks.length})`,
    blocks,
  }));
}
