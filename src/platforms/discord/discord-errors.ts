import { DiscordAPIError, DiscordjsErrorCodes } from "discord.js";
import { SetupError } from "../../core/errors.ts";

/**
 * The Discord front end cannot start or register: the message names the setting to fix and how
 * (a bad token, a missing id, the bot not being in the guild).
 */
export class DiscordSetupError extends SetupError {
  override readonly name = "DiscordSetupError";
}

/** The fix for a rejected or missing token, shared by start and register. */
export const TOKEN_FIX =
  "set DISCORD_TOKEN to the bot token (Developer Portal → your application → Bot → Reset Token) and start again";

/** True when discord.js or Discord said the token is wrong (401 or discord.js's TokenInvalid). */
export function isTokenRejection(error: unknown): boolean {
  if (error instanceof DiscordAPIError) return error.status === 401;
  const code = (error as { code?: unknown } | null)?.code;
  const status = (error as { status?: unknown } | null)?.status;
  return code === DiscordjsErrorCodes.TokenInvalid || status === 401;
}

/** The error for a rejected token: says which variable to fix. */
export function tokenRejected(apiUrl: string): DiscordSetupError {
  return new DiscordSetupError(
    `Discord rejected the bot token (401 Unauthorized from ${apiUrl}): discord.token comes from DISCORD_TOKEN; ${TOKEN_FIX}`,
    "token_rejected",
  );
}
