import { DiscordAPIError, REST, Routes } from "discord.js";
import type { SubcommandSpec } from "../../bot/core/command-request.ts";
import { DiscordSetupError, isTokenRejection, tokenRejected } from "./discord-errors.ts";
import { inviteUrl, trainCommand } from "./train-command.ts";

export interface RegistrationTarget {
  applicationId: string | undefined;
  /** Guild-scoped (available at once) when set; global (may take up to an hour) otherwise. */
  guildId: string | undefined;
  apiUrl: string;
}

/** What registering did, for the log and `trainops discord register`. */
export interface RegistrationResult {
  scope: "guild" | "global";
  guildId?: string;
  /** Subcommands registered under `/train`. */
  subcommands: number;
  commandId: string;
  inviteUrl: string;
}

/**
 * Registers `/train` by bulk overwrite (idempotent: running it again replaces the same command).
 * Errors name the setting to fix; a guild the bot is not in yet gets the invite URL.
 */
export async function registerTrainCommand(
  rest: REST,
  target: RegistrationTarget,
  specs: readonly SubcommandSpec[],
): Promise<RegistrationResult> {
  const { applicationId, guildId } = target;
  if (!applicationId) {
    throw new DiscordSetupError(
      "discord.applicationId is not set: copy the Application ID from the Developer Portal (your application → General Information) into the config",
    );
  }
  const invite = inviteUrl(applicationId, guildId);
  const route = guildId
    ? Routes.applicationGuildCommands(applicationId, guildId)
    : Routes.applicationCommands(applicationId);
  const body = [trainCommand(specs)];
  let stored: { id?: string }[];
  try {
    stored = (await rest.put(route, { body })) as { id?: string }[];
  } catch (error) {
    if (isTokenRejection(error)) throw tokenRejected(target.apiUrl);
    if (error instanceof DiscordAPIError && error.status === 403 && guildId) {
      throw new DiscordSetupError(
        `Discord refused to register /train in guild ${guildId} (403 ${error.message}): the bot is not in that guild or was invited without applications.commands; open ${invite} , then run 'trainops discord register' again (or check discord.guildId)`,
      );
    }
    if (error instanceof DiscordAPIError && error.status === 403) {
      throw new DiscordSetupError(
        `Discord refused to register /train (403 ${error.message}): discord.applicationId ${applicationId} does not belong to this bot token; copy the Application ID of the same application`,
      );
    }
    if (error instanceof DiscordAPIError && error.status === 400) {
      throw new DiscordSetupError(
        `Discord refused the /train definition (400 ${error.message}): ${JSON.stringify(error.rawError)}`,
      );
    }
    throw error;
  }
  return {
    scope: guildId ? "guild" : "global",
    ...(guildId ? { guildId } : {}),
    subcommands: body[0]?.options?.length ?? 0,
    commandId: stored[0]?.id ?? "",
    inviteUrl: invite,
  };
}

/**
 * Registers `/train` with the bot's token (`trainops discord register`): the REST client is
 * made here, so nothing outside this folder imports discord.js.
 */
export function registerTrainCommandWithToken(
  token: string,
  target: RegistrationTarget,
  specs: readonly SubcommandSpec[],
): Promise<RegistrationResult> {
  const rest = new REST({ api: target.apiUrl, retries: 2, timeout: 15_000 }).setToken(token);
  return registerTrainCommand(rest, target, specs);
}
