import type { BotCore, CommandRequest, Invoker } from "../../bot/core/command-request.ts";
import { parseCommandText } from "../../bot/core/parse-command-text.ts";

/**
 * Undoes what Slack does to slash command text before it reaches us: `&`, `<`, `>` arrive as
 * HTML entities, and desktop clients may turn quotes into curly ones, which would break
 * `"known slow disk"` into three words.
 */
export function normaliseSlackText(text: string): string {
  return text
    .replace(/[\u201C\u201D\u201E\u00AB\u00BB]/g, '"')
    .replace(/[\u2018\u2019\u201A]/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&")
    .trim();
}

/**
 * Turns the text after `/train` into a neutral request, with the same grammar as the console:
 * `status exp001`, `set workers=4 batch=2`, `mute exp001 gpu_idle 2h "known slow disk"`.
 * Values stay raw strings; the command layer validates and words its own messages.
 */
export function slashTextToRequest(text: string, core: BotCore, invoker: Invoker): CommandRequest {
  const runNames = core.autocomplete("run", "");
  const parsed = parseCommandText(normaliseSlackText(text), runNames);
  return { subcommand: parsed.subcommand, args: parsed.args, invoker };
}
