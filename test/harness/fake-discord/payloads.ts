/**
 * Builders for the JSON objects the fake Discord hands to clients: users, members, guilds,
 * channels, messages and interactions, shaped as the v10 API documents them so discord.js
 * parses them exactly as it parses Discord's own.
 */

const DISCORD_EPOCH = 1_420_070_400_000n;
let increment = 0n;

/** A fresh snowflake id, increasing with time like Discord's. */
export function snowflake(): string {
  increment = (increment + 1n) & 0xfffn;
  return (((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | increment).toString();
}

export interface FakeUser {
  id: string;
  username: string;
  /** Role ids the user holds in the fake guild. */
  roles?: string[];
  bot?: boolean;
}

export function userObject(user: FakeUser): Record<string, unknown> {
  return {
    id: user.id,
    username: user.username,
    discriminator: "0",
    global_name: user.username,
    avatar: null,
    bot: user.bot ?? false,
    public_flags: 0,
  };
}

export function memberObject(user: FakeUser): Record<string, unknown> {
  return {
    user: userObject(user),
    nick: null,
    avatar: null,
    roles: user.roles ?? [],
    joined_at: "2025-01-01T00:00:00.000000+00:00",
    premium_since: null,
    deaf: false,
    mute: false,
    flags: 0,
    pending: false,
    permissions: "2248473465835073",
    communication_disabled_until: null,
  };
}

export function channelObject(id: string, guildId: string | undefined): Record<string, unknown> {
  return {
    id,
    type: 0,
    ...(guildId ? { guild_id: guildId } : {}),
    name: "training",
    position: 0,
    permission_overwrites: [],
    topic: null,
    nsfw: false,
    last_message_id: null,
    rate_limit_per_user: 0,
    parent_id: null,
  };
}

export function roleObject(id: string, name: string): Record<string, unknown> {
  return {
    id,
    name,
    color: 0,
    colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position: 0,
    permissions: "0",
    managed: false,
    mentionable: true,
    flags: 0,
  };
}

export function guildObject(
  guildId: string,
  channelIds: string[],
  roleIds: string[],
): Record<string, unknown> {
  return {
    id: guildId,
    name: "trainops test guild",
    icon: null,
    splash: null,
    discovery_splash: null,
    owner_id: "100000000000000001",
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    roles: [roleObject(guildId, "@everyone"), ...roleIds.map((id) => roleObject(id, `role-${id}`))],
    emojis: [],
    stickers: [],
    features: [],
    mfa_level: 0,
    application_id: null,
    system_channel_id: null,
    system_channel_flags: 0,
    rules_channel_id: null,
    vanity_url_code: null,
    description: null,
    banner: null,
    premium_tier: 0,
    premium_subscription_count: 0,
    preferred_locale: "en-US",
    public_updates_channel_id: null,
    nsfw_level: 0,
    premium_progress_bar_enabled: false,
    joined_at: "2025-01-01T00:00:00.000000+00:00",
    large: false,
    unavailable: false,
    member_count: 1,
    voice_states: [],
    members: [],
    channels: channelIds.map((id) => channelObject(id, undefined)),
    threads: [],
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}

export interface StoredAttachment {
  id: string;
  filename: string;
  size: number;
  content_type: string;
  description?: string;
  url: string;
  proxy_url: string;
}

export interface StoredMessage {
  id: string;
  channel_id: string;
  content: string;
  embeds: unknown[];
  components: unknown[];
  attachments: StoredAttachment[];
  flags: number;
  nonce?: string | number;
  allowed_mentions?: unknown;
  webhook_id?: string;
  author: FakeUser;
  timestamp: string;
  edited_timestamp: string | null;
}

/** A message object as returned by message create/edit routes. */
export function messageObject(message: StoredMessage): Record<string, unknown> {
  return {
    id: message.id,
    channel_id: message.channel_id,
    author: userObject(message.author),
    content: message.content,
    timestamp: message.timestamp,
    edited_timestamp: message.edited_timestamp,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: message.attachments,
    embeds: message.embeds,
    components: message.components,
    pinned: false,
    type: 0,
    flags: message.flags,
    ...(message.webhook_id ? { webhook_id: message.webhook_id } : {}),
    ...(message.nonce !== undefined ? { nonce: message.nonce } : {}),
  };
}
