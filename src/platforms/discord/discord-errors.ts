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

/**
 * Errors @discordjs/ws raises when the gateway closes with a code no reconnect fixes (4004,
 * 4010–4014): retrying them would only spend the identify budget.
 */
const GATEWAY_REFUSALS = new Set([
  "Authentication failed",
  "Invalid shard",
  "Sharding is required",
  "Used an invalid API version",
  "Used invalid intents",
  "Used disallowed intents",
]);

/** True when the gateway refused the bot for good (bad token, intents, shard settings). */
export function isGatewayRefusal(error: unknown): boolean {
  return error instanceof Error && GATEWAY_REFUSALS.has(error.message);
}

/**
 * How long until Discord's session starts are available again, when a login failed for want of
 * them (@discordjs/ws checks `session_start_limit.remaining` before connecting and names the
 * reset time); 0 for any other error.
 */
export function sessionsResetInMs(error: unknown, now: number): number {
  const message = error instanceof Error ? error.message : "";
  if (!message.startsWith("Not enough sessions remaining")) return 0;
  const at = Date.parse(/resets at (\S+)$/.exec(message)?.[1] ?? "");
  return Number.isFinite(at) ? Math.max(0, at - now) : 0;
}
