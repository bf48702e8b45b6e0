import type { Config } from "../../config/schema.ts";
import type { Invoker, SubcommandSpec } from "./command-request.ts";

/** Why a request may not run, phrased for the asker; null when it may. */
export type AuthorizationVerdict = { allowed: true } | { allowed: false; reason: string };

type AuthConfig = Pick<Config, "discord" | "slack">;

/**
 * Read commands: everyone in an allowed channel (all channels when none are listed). Mutating
 * commands: configured operators only (Discord users or roles, Slack users or user groups). The
 * console is local, so whoever sits at it is an operator.
 */
export function authorize(
  config: AuthConfig,
  invoker: Invoker,
  spec: SubcommandSpec,
): AuthorizationVerdict {
  if (invoker.platform === "console") return { allowed: true };
  const platform = invoker.platform === "discord" ? config.discord : config.slack;
  const channels = platform?.allowedChannels;
  if (channels && channels.length > 0 && !channels.includes(invoker.channelId)) {
    return {
      allowed: false,
      reason: `/train is not enabled in this channel. Use it in ${channels.map((c) => channelMention(invoker, c)).join(", ")}.`,
    };
  }
  if (!spec.mutating || isOperator(config, invoker)) return { allowed: true };
  const what =
    invoker.platform === "discord"
      ? "a user or role listed in discord.operators"
      : "a user or user group listed in slack.operators";
  return {
    allowed: false,
    reason: `/train ${spec.name} changes the run, so it needs ${what}. Ask an operator to run it or to add you (your id: ${invoker.userId}).`,
  };
}

/** Whether the invoker may run mutating commands. */
export function isOperator(config: AuthConfig, invoker: Invoker): boolean {
  if (invoker.platform === "console") return true;
  if (invoker.platform === "discord") {
    const ops = config.discord?.operators;
    return Boolean(
      ops &&
        (ops.users.includes(invoker.userId) || invoker.roles.some((r) => ops.roles.includes(r))),
    );
  }
  const ops = config.slack?.operators;
  return Boolean(
    ops &&
      (ops.users.includes(invoker.userId) || invoker.roles.some((g) => ops.userGroups.includes(g))),
  );
}

function channelMention(invoker: Invoker, channel: string): string {
  return invoker.platform === "discord" ? `<#${channel}>` : `<#${channel}>`;
}
