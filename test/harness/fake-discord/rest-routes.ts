import type { FakeDiscord, ReceivedRequest } from "./fake-discord.ts";
import { messageObject, snowflake } from "./payloads.ts";
import { invalidForm, type Reply, unknown } from "./replies.ts";
import { commandProblems, messageProblems } from "./validation.ts";

/** PUT application commands (bulk overwrite), global or for one guild. */
export function overwriteCommands(
  fake: FakeDiscord,
  appId: string,
  scope: string,
  r: ReceivedRequest,
): Reply {
  if (appId !== fake.applicationId)
    return { status: 403, json: { message: "Missing Access", code: 50001 } };
  if (scope !== "global" && scope !== fake.guildId) {
    return { status: 403, json: { message: "Missing Access", code: 50001 } };
  }
  const body = (Array.isArray(r.body) ? r.body : []) as Record<string, unknown>[];
  const problems = body.flatMap((c, i) => commandProblems(c, i));
  if (problems.length > 0) return invalidForm(problems);
  const stored = body.map((c) => ({
    ...c,
    id: snowflake(),
    application_id: fake.applicationId,
    version: snowflake(),
    default_member_permissions: null,
    type: c.type ?? 1,
    ...(scope === "global" ? {} : { guild_id: scope }),
  }));
  fake.commands.set(scope, stored);
  return { status: 200, json: stored };
}

/** POST /channels/{id}/messages, JSON or multipart, with `enforce_nonce`. */
export function createChannelMessage(
  fake: FakeDiscord,
  channelId: string,
  r: ReceivedRequest,
): Reply {
  if (!fake.channelIds.includes(channelId)) return unknown(10003, "Unknown Channel");
  const body = r.body ?? {};
  const problems = messageProblems(body);
  if (problems.length > 0) return invalidForm(problems);
  // enforce_nonce: Discord returns the message already created with this nonce instead of a
  // second one, which is what makes retried deliveries land once.
  if (body.enforce_nonce === true && body.nonce !== undefined) {
    const existing = fake.channelMessages.find(
      (m) => m.channel_id === channelId && m.nonce === body.nonce,
    );
    if (existing) return { status: 200, json: messageObject(existing) };
  }
  const message = fake.storeMessage(channelId, body, r.files);
  fake.channelMessages.push(message);
  return { status: 200, json: messageObject(message) };
}
