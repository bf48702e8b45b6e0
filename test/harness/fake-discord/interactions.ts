import {
  channelObject,
  type FakeUser,
  memberObject,
  messageObject,
  type StoredMessage,
  snowflake,
} from "./payloads.ts";

/** Where an interaction happens. */
export interface InteractionPlace {
  applicationId: string;
  guildId: string;
  channelId: string;
}

/** What a test says about a slash command use: values typed as the user typed them. */
export interface SlashCommandInput {
  user: FakeUser;
  subcommand: string;
  options?: Record<string, string | number>;
  /** Sends an autocomplete interaction with this option focused instead of a command. */
  focused?: string;
  command?: string;
}

export interface ButtonInput {
  user: FakeUser;
  customId: string;
  /** The message the button sits on (the bot's earlier reply). */
  message: StoredMessage;
}

/** Fields every interaction carries; omitting any of them makes discord.js throw. */
function base(place: InteractionPlace, user: FakeUser, type: number): Record<string, unknown> {
  return {
    id: snowflake(),
    application_id: place.applicationId,
    type,
    token: `itok-${snowflake()}-${Math.random().toString(36).slice(2)}`,
    version: 1,
    guild_id: place.guildId,
    channel_id: place.channelId,
    channel: channelObject(place.channelId, place.guildId),
    member: memberObject(user),
    app_permissions: "2248473465835073",
    locale: "en-US",
    guild_locale: "en-US",
    entitlements: [],
    authorizing_integration_owners: { "0": place.guildId },
    context: 0,
    attachment_size_limit: 10_485_760,
  };
}

/** An APPLICATION_COMMAND (type 2) or, with `focused`, an APPLICATION_COMMAND_AUTOCOMPLETE (4). */
export function slashCommandInteraction(
  place: InteractionPlace,
  input: SlashCommandInput,
): Record<string, unknown> {
  const options = Object.entries(input.options ?? {}).map(([name, value]) => ({
    name,
    // Discord types each value by the registered option: 4 integer, 3 string.
    type: typeof value === "number" ? 4 : 3,
    value: input.focused === name ? String(value) : value,
    ...(input.focused === name ? { focused: true } : {}),
  }));
  return {
    ...base(place, input.user, input.focused ? 4 : 2),
    data: {
      id: "900000000000000001",
      name: input.command ?? "train",
      type: 1,
      guild_id: place.guildId,
      options: [{ name: input.subcommand, type: 1, options }],
    },
  };
}

/** A MESSAGE_COMPONENT (type 3) button press. */
export function buttonInteraction(
  place: InteractionPlace,
  input: ButtonInput,
): Record<string, unknown> {
  return {
    ...base(place, input.user, 3),
    message: messageObject(input.message),
    data: { custom_id: input.customId, component_type: 2 },
  };
}
