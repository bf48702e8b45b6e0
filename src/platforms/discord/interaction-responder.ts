import type { ButtonInteraction, ChatInputCommandInteraction } from "discord.js";
import type { Responder } from "../../bot/core/command-request.ts";
import type { Clock } from "../../core/clock.ts";
import type { Message } from "../../message/message.ts";
import { type DiscordLog, errorDetails } from "./discord-log.ts";
import { interactionOptions } from "./discord-payload.ts";
import { renderMessage } from "./render-message.ts";

/** Interaction tokens last 15 minutes; past this age progress goes to the channel instead. */
const TOKEN_SAFE_AGE_MS = 14 * 60_000;

/** Discord error codes meaning the interaction webhook is gone (expired or unknown). */
const WEBHOOK_GONE = new Set([10015, 50027]);

export interface ResponderContext {
  clock: Clock;
  log: DiscordLog;
  postToChannel: (channelId: string, message: Message) => Promise<void>;
}

/**
 * Progress after the first reply: interaction follow-ups while the token is valid, then plain
 * channel messages, so a phase verdict 40 minutes later still reaches the channel.
 */
export class InteractionResponder implements Responder {
  private release: () => void = () => {};
  /** Follow-ups wait for the first reply: Discord rejects them before it. */
  private readonly ready = new Promise<void>((resolve) => {
    this.release = resolve;
  });

  constructor(
    private readonly interaction: ChatInputCommandInteraction | ButtonInteraction,
    private readonly context: ResponderContext,
  ) {}

  /** Called once the first reply (or deferral) went out, successfully or not. */
  firstReplySent(): void {
    this.release();
  }

  async followUp(message: Message): Promise<void> {
    await this.ready;
    const age = this.context.clock.now() - this.interaction.createdTimestamp;
    const channelId = this.interaction.channelId;
    if (age < TOKEN_SAFE_AGE_MS || !channelId) {
      try {
        await this.interaction.followUp(interactionOptions(renderMessage(message), "send"));
        return;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (!channelId || typeof code !== "number" || !WEBHOOK_GONE.has(code)) throw error;
        this.context.log.warn(
          errorDetails(error),
          "discord: follow-up refused; posting in channel",
        );
      }
    }
    // A private message cannot go to the channel; it is dropped rather than shown to everyone.
    if (message.ephemeral) {
      this.context.log.warn({ title: message.title }, "discord: private follow-up after expiry");
      return;
    }
    await this.context.postToChannel(channelId, message);
  }
}
