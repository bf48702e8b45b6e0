import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  PermissionFlagsBits,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from "discord.js";
import type { OptionSpec, SubcommandSpec } from "../../bot/core/command-request.ts";
import { DISCORD_LIMITS, truncate } from "./discord-limits.ts";

/** The slash command every subcommand hangs under. */
export const COMMAND_NAME = "train";

/**
 * What the bot needs in a channel and nothing more: View Channel (1024: without it a channel
 * the bot's role cannot see refuses every post), Send Messages (2048), Embed Links (16384) and
 * Attach Files (32768) = 52224. Slash commands themselves need no permission bit.
 */
export const BOT_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.AttachFiles;

/** OAuth2 scopes of the invite: the bot user and its slash commands. */
export const INVITE_SCOPES = ["bot", "applications.commands"] as const;

/** The invite link with the least permissions; preselects the guild when one is configured. */
export function inviteUrl(applicationId: string, guildId?: string): string {
  const params = new URLSearchParams({
    client_id: applicationId,
    scope: INVITE_SCOPES.join(" "),
    permissions: BOT_PERMISSIONS.toString(),
  });
  if (guildId) {
    params.set("guild_id", guildId);
    params.set("disable_guild_select", "true");
  }
  return `https://discord.com/oauth2/authorize?${params.toString()}`;
}

function describe(text: string): string {
  return truncate(text.trim() || "—", DISCORD_LIMITS.commandDescription, "…");
}

function option(spec: OptionSpec) {
  const base = {
    name: spec.name,
    description: describe(spec.description),
    required: spec.required,
  };
  const choices = (spec.choices ?? []).slice(0, 25).map((c) => ({ name: c, value: c }));
  if (spec.type === "integer") {
    return {
      ...base,
      type: ApplicationCommandOptionType.Integer as const,
      ...(spec.min !== undefined ? { min_value: spec.min } : {}),
      ...(spec.max !== undefined ? { max_value: spec.max } : {}),
      ...(choices.length > 0
        ? { choices: choices.map((c) => ({ name: c.name, value: Number(c.value) })) }
        : {}),
    };
  }
  return {
    ...base,
    type: ApplicationCommandOptionType.String as const,
    // Discord refuses autocomplete together with fixed choices; the choices win.
    ...(choices.length > 0 ? { choices } : spec.autocomplete ? { autocomplete: true } : {}),
  };
}

/**
 * `/train` with one subcommand per spec and typed options (integer ranges, choices, run
 * autocomplete). Discord wants required options before optional ones, so they are reordered;
 * the core reads arguments by name, so the order does not matter to it.
 */
export function trainCommand(
  specs: readonly SubcommandSpec[],
): RESTPostAPIChatInputApplicationCommandsJSONBody {
  return {
    name: COMMAND_NAME,
    description: "Run the operations of the training runs",
    type: ApplicationCommandType.ChatInput,
    // Guild-only: the bot talks to the team's channels, not DMs.
    contexts: [0],
    options: specs.slice(0, 25).map((spec) => ({
      type: ApplicationCommandOptionType.Subcommand,
      name: spec.name,
      description: describe(spec.description),
      options: [
        ...spec.options.filter((o) => o.required),
        ...spec.options.filter((o) => !o.required),
      ].map(option),
    })),
  };
}
