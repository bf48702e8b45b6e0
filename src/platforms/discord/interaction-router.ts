import {
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  DiscordAPIError,
  type Interaction,
} from "discord.js";
import type { BotCore, Invoker } from "../../bot/core/command-request.ts";
import type { Clock } from "../../core/clock.ts";
import type { Message } from "../../message/message.ts";
import { DISCORD_LIMITS } from "./discord-limits.ts";
import { type DiscordLog, errorDetails } from "./discord-log.ts";
import { interactionOptions } from "./discord-payload.ts";
import { InteractionResponder } from "./interaction-responder.ts";
import { EPHEMERAL_FLAG, type RenderedMessage, renderMessage } from "./render-message.ts";
import { COMMAND_NAME } from "./train-command.ts";

export interface InteractionRouterOptions {
  core: BotCore;
  log: DiscordLog;
  clock: Clock;
  /** Defer when the core has not answered within this time (Discord allows 3 s in all). */
  deferAfterMs: number;
  /** Role ids per interaction id, as the raw gateway payload listed them. */
  takeRoles: (interactionId: string) => string[] | undefined;
  /** Posts to a channel through REST, for progress after the interaction token expired. */
  postToChannel: (channelId: string, message: Message) => Promise<void>;
}

type Outcome = { done: true; message: Message } | { done: false; pending: Promise<Message> };

/** The reply to show when the core threw: private, short, and says where to look. */
function failureMessage(what: string, error: unknown): Message {
  return {
    title: `${what} failed`,
    severity: "critical",
    lines: [
      `${error instanceof Error ? error.message : String(error)}`,
      "Nothing was changed by this reply; the bot's log has the details.",
    ],
    ephemeral: true,
  };
}

/**
 * Routes Discord interactions to the core: slash commands to `execute`, buttons to `press`,
 * autocomplete to `autocomplete`. Answers within Discord's 3-second window by replying at once
 * when the core is quick and deferring otherwise; never lets an error escape.
 */
export class InteractionRouter {
  constructor(private readonly options: InteractionRouterOptions) {}

  /** Handles one interaction; logs and swallows every failure. */
  async handle(interaction: Interaction): Promise<void> {
    try {
      if (interaction.isChatInputCommand()) {
        if (interaction.commandName === COMMAND_NAME) await this.command(interaction);
      } else if (interaction.isAutocomplete()) {
        if (interaction.commandName === COMMAND_NAME) await this.autocomplete(interaction);
      } else if (interaction.isButton()) await this.button(interaction);
    } catch (error) {
      this.options.log.error(
        { ...errorDetails(error), interaction: interaction.id },
        "discord: handling an interaction failed",
      );
    }
  }

  private invoker(interaction: Interaction): Invoker {
    const raw = this.options.takeRoles(interaction.id);
    const member = interaction.member as { roles?: unknown } | null;
    const roles =
      raw ??
      (Array.isArray(member?.roles)
        ? (member.roles as string[])
        : [...((member?.roles as { cache?: Map<string, unknown> })?.cache?.keys() ?? [])]);
    return {
      platform: "discord",
      userId: interaction.user.id,
      userName: interaction.user.username,
      roles,
      channelId: interaction.channelId ?? "",
    };
  }

  /** Runs `work`, but gives up waiting after the defer threshold. */
  private async race(work: () => Promise<Message>, what: string): Promise<Outcome> {
    // Through a promise, so a core that throws synchronously is caught the same way.
    const pending = Promise.resolve()
      .then(work)
      .catch((error: unknown) => {
        this.options.log.error(errorDetails(error), `discord: ${what} threw`);
        return failureMessage(what, error);
      });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), this.options.deferAfterMs);
    });
    const first = await Promise.race([pending, late]);
    clearTimeout(timer);
    return first === "late" ? { done: false, pending } : { done: true, message: first };
  }

  private async command(interaction: ChatInputCommandInteraction): Promise<void> {
    const subcommand = interaction.options.getSubcommand(false) ?? "";
    const args: Record<string, string> = {};
    for (const option of interaction.options.data[0]?.options ?? []) {
      if (option.value !== undefined && option.value !== null) {
        args[option.name] = String(option.value);
      }
    }
    const responder = new InteractionResponder(interaction, this.options);
    const request = { subcommand, args, invoker: this.invoker(interaction) };
    const what = `/train ${subcommand}`;
    try {
      const outcome = await this.race(() => this.options.core.execute(request, responder), what);
      if (outcome.done) {
        await this.firstReply(interaction, renderMessage(outcome.message));
      } else {
        await interaction.deferReply();
        await this.afterDefer(interaction, await outcome.pending);
      }
    } finally {
      responder.firstReplySent();
    }
  }

  private async button(interaction: ButtonInteraction): Promise<void> {
    const responder = new InteractionResponder(interaction, this.options);
    const press = { buttonId: interaction.customId, invoker: this.invoker(interaction) };
    try {
      const outcome = await this.race(
        () => this.options.core.press(press, responder),
        "The button press",
      );
      if (outcome.done) {
        // A private answer (someone else pressed, or it expired) leaves the message as it is;
        // otherwise the answer replaces the confirmation and its buttons.
        await this.firstReply(interaction, renderMessage(outcome.message));
      } else {
        await interaction.deferUpdate();
        await this.afterDefer(interaction, await outcome.pending);
      }
    } finally {
      responder.firstReplySent();
    }
  }

  /**
   * Sends the first response: a reply, or for a public answer to a button an update of the
   * message. If Discord refuses the body (400), the person still gets a private note instead of
   * "The application did not respond".
   */
  private async firstReply(
    interaction: ChatInputCommandInteraction | ButtonInteraction,
    rendered: RenderedMessage,
  ): Promise<void> {
    try {
      if (interaction.isButton() && !rendered.ephemeral) {
        await interaction.update(interactionOptions(rendered, "edit"));
      } else {
        await interaction.reply(interactionOptions(rendered, "send"));
      }
    } catch (error) {
      const refused = error instanceof DiscordAPIError && error.status === 400;
      if (!refused || interaction.replied || interaction.deferred) throw error;
      this.options.log.error(errorDetails(error), "discord: Discord refused a reply");
      await interaction.reply({
        content: `The answer could not be shown on Discord (${error.message}); the bot's log has the details.`,
        flags: EPHEMERAL_FLAG,
        allowedMentions: { parse: [] },
      });
    }
  }

  /** Completes a deferred response: edits it, or answers privately when the result is private. */
  private async afterDefer(
    interaction: ChatInputCommandInteraction | ButtonInteraction,
    message: Message,
  ): Promise<void> {
    const rendered = renderMessage(message);
    if (!rendered.ephemeral) {
      await interaction.editReply(interactionOptions(rendered, "edit"));
      return;
    }
    // A deferred reply's visibility was fixed when it was deferred: remove the public
    // placeholder of a command and answer privately instead.
    if (interaction.isChatInputCommand()) await interaction.deleteReply();
    await interaction.followUp(interactionOptions(rendered, "send"));
  }

  private async autocomplete(interaction: AutocompleteInteraction): Promise<void> {
    const focused = interaction.options.getFocused(true);
    let suggestions: string[] = [];
    try {
      suggestions = this.options.core.autocomplete(focused.name, String(focused.value ?? ""));
    } catch (error) {
      this.options.log.warn(errorDetails(error), "discord: autocomplete failed");
    }
    const max = DISCORD_LIMITS.choiceText;
    await interaction.respond(
      suggestions
        .filter((s) => s.length > 0 && s.length <= max)
        .slice(0, DISCORD_LIMITS.autocompleteChoices)
        .map((s) => ({ name: s, value: s })),
    );
  }
}
