import type { Config } from "../config/schema.ts";
import type { MessageMentions, Severity } from "../message/message.ts";

/**
 * Who to ping for an alert: `discord.mentions` and `slack.mentions` (severity → ids) plus the
 * rule's own `mention` list. One neutral set carries both platforms' ids; each sink keeps the
 * ids of its platform (Discord: numeric snowflakes; Slack: U…/W… users, S… user groups).
 *
 * Accepted spellings: `123`, `<@123>`, `user:123`, `<@&456>`, `role:456`, `U012AB`,
 * `<!subteam^S012>`, `subteam:S012`.
 */
export function mentionsFor(
  config: Pick<Config, "discord" | "slack">,
  severity: Severity,
  extra: readonly string[] = [],
): MessageMentions {
  const entries = [
    ...(config.discord?.mentions?.[severity] ?? []),
    ...(config.slack?.mentions?.[severity] ?? []),
    ...extra,
  ];
  const users = new Set<string>();
  const roles = new Set<string>();
  for (const entry of entries) {
    const parsed = parseMention(entry);
    if (parsed) (parsed.kind === "user" ? users : roles).add(parsed.id);
  }
  return { users: [...users], roles: [...roles] };
}

/** Parses one mention spelling; null when it is not one. */
export function parseMention(text: string): { kind: "user" | "role"; id: string } | null {
  const t = text.trim();
  let m = /^(?:<@&(\d+)>|role:(\d+)|&(\d+))$/.exec(t);
  if (m) return { kind: "role", id: (m[1] ?? m[2] ?? m[3]) as string };
  m = /^(?:<@!?(\d+)>|user:(\d+)|(\d+))$/.exec(t);
  if (m) return { kind: "user", id: (m[1] ?? m[2] ?? m[3]) as string };
  m = /^(?:<!subteam\^(S[A-Z0-9]+)(?:\|[^>]*)?>|subteam:(S[A-Z0-9]+)|(S[A-Z0-9]{2,}))$/.exec(t);
  if (m) return { kind: "role", id: (m[1] ?? m[2] ?? m[3]) as string };
  m = /^(?:<@([UW][A-Z0-9]+)>|user:([UW][A-Z0-9]+)|([UW][A-Z0-9]{2,}))$/.exec(t);
  if (m) return { kind: "user", id: (m[1] ?? m[2] ?? m[3]) as string };
  return null;
}

/** True for a Discord snowflake. */
export function isDiscordId(id: string): boolean {
  return /^\d{5,25}$/.test(id);
}
