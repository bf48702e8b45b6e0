import type { Message } from "../../message/message.ts";
import { clip } from "./http-delivery.ts";

/**
 * A message's body as plain text under its title, for channels that show text only (ntfy,
 * Telegram, e-mail): lines, then fields as `name: value`, the quoted log lines, the footer.
 */
export function plainBody(message: Message, max = 4000): string {
  const parts: string[] = [];
  if (message.lines?.length) parts.push(message.lines.join("\n"));
  if (message.fields?.length)
    parts.push(message.fields.map((f) => `${f.name}: ${f.value}`).join("\n"));
  if (message.code) parts.push(message.code);
  if (message.footer) parts.push(message.footer);
  return clip(parts.join("\n\n"), max);
}
