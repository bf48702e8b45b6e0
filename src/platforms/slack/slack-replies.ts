import type { webApi } from "@slack/bolt";
import type { Responder } from "../../bot/core/command-request.ts";
import type { Message, MessageImage } from "../../message/message.ts";
import { asKnownBlocks, type Block, renderMessage } from "./block-kit.ts";
import { uploadChart } from "./chart-upload.ts";
import { classifySlackError } from "./web-api-errors.ts";

/** Where one interaction answers: its channel, the person, and Slack's response_url. */
export interface ReplyTarget {
  channelId: string;
  userId: string;
  responseUrl?: string;
  /** Replies go into this thread (a button's message, a command's first reply). */
  threadTs?: string;
}

export interface ReplyLog {
  warn(msg: string): void;
}

/** Bodies of response_url posts must arrive within this time or the reply is given up. */
const RESPONSE_URL_TIMEOUT_MS = 10_000;

/**
 * Sends the answers of slash commands and button presses: channel replies with
 * chat.postMessage (split within Slack's limits), charts with files.uploadV2, private replies
 * through the response_url (or chat.postEphemeral), and edits with chat.update.
 */
export class SlackReplies {
  constructor(
    private readonly client: webApi.WebClient,
    private readonly log: ReplyLog,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  /** Answers `message` where it belongs: privately when ephemeral, else in the channel. */
  async send(target: ReplyTarget, message: Message): Promise<string | undefined> {
    if (message.ephemeral) {
      await this.sendEphemeral(target, message);
      return undefined;
    }
    return this.sendToChannel(target, message);
  }

  /** Only the person who asked sees it (refusals, errors). */
  async sendEphemeral(target: ReplyTarget, message: Message): Promise<void> {
    const parts = renderMessage(message);
    for (const part of parts) {
      if (
        target.responseUrl &&
        (await this.respond(target.responseUrl, {
          response_type: "ephemeral",
          replace_original: false,
          ...part,
        }))
      ) {
        continue;
      }
      await this.client.chat.postEphemeral({
        channel: target.channelId,
        user: target.userId,
        text: part.text,
        blocks: asKnownBlocks(part.blocks),
      });
    }
  }

  /** Posts in the channel (in the target thread if any) and uploads the images; returns the first ts. */
  async sendToChannel(target: ReplyTarget, message: Message): Promise<string | undefined> {
    let first: string | undefined;
    try {
      for (const part of renderMessage(message)) {
        const result = await this.client.chat.postMessage({
          channel: target.channelId,
          text: part.text,
          blocks: asKnownBlocks(part.blocks),
          unfurl_links: false,
          unfurl_media: false,
          ...(target.threadTs ? { thread_ts: target.threadTs } : {}),
        });
        first ??= result.ts;
      }
    } catch (error) {
      const code = (error as { data?: { error?: string } }).data?.error;
      // Not a member of the channel (private channel, DM): the response_url still reaches it.
      if (
        (code === "not_in_channel" || code === "channel_not_found") &&
        target.responseUrl &&
        !first
      ) {
        for (const part of renderMessage(message)) {
          await this.respond(target.responseUrl, {
            response_type: "in_channel",
            replace_original: false,
            ...part,
          });
        }
        if (message.images?.length) {
          this.log.warn(
            `chart not shared: the bot is not in channel ${target.channelId}; /invite it to see charts`,
          );
        }
        return undefined;
      }
      throw error;
    }
    for (const image of message.images ?? []) {
      await this.uploadImage(target.channelId, first ?? target.threadTs, image);
    }
    return first;
  }

  /** Uploads a chart with files.uploadV2 (get URL → upload → complete) into the channel. */
  async uploadImage(
    channelId: string,
    threadTs: string | undefined,
    image: MessageImage,
  ): Promise<void> {
    try {
      await uploadChart(this.client, channelId, threadTs, image);
    } catch (error) {
      // The text of the reply already went out; a missing chart is reported, not fatal.
      this.log.warn(`chart ${image.name} was not uploaded: ${classifySlackError(error).error}`);
    }
  }

  /** Replaces a bot message (its buttons, once pressed). */
  async update(channelId: string, ts: string, text: string, blocks: Block[]): Promise<void> {
    await this.client.chat.update({
      channel: channelId,
      ts,
      text,
      blocks: asKnownBlocks(blocks),
    });
  }

  /**
   * Replaces the message an interaction came from through its response_url (the only way to
   * change a private reply); false when Slack refused.
   */
  replaceOriginal(responseUrl: string, text: string, blocks: Block[]): Promise<boolean> {
    return this.respond(responseUrl, { replace_original: true, text, blocks });
  }

  /**
   * A Responder whose follow-ups go into the thread of the first reply (or privately). It never
   * rejects: progress of a restart that Slack failed to show is logged, and must not become an
   * unhandled rejection in whatever background task reported it.
   */
  responder(target: ReplyTarget, firstReply: Promise<string | undefined>): Responder {
    return {
      followUp: async (message: Message) => {
        const ts = await firstReply.catch(() => undefined);
        try {
          await this.send({ ...target, threadTs: target.threadTs ?? ts }, message);
        } catch (error) {
          this.log.warn(
            `follow-up "${message.title}" not posted: ${classifySlackError(error).error}`,
          );
        }
      },
    };
  }

  /** Posts to a response_url; false when Slack refused it (expired, used up). */
  private async respond(url: string, body: Record<string, unknown>): Promise<boolean> {
    try {
      const res = await this.fetchFn(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(RESPONSE_URL_TIMEOUT_MS),
      });
      if (res.ok) return true;
      this.log.warn(`response_url answered HTTP ${res.status}; falling back to the Web API`);
    } catch (error) {
      this.log.warn(
        `response_url failed (${(error as Error).message}); falling back to the Web API`,
      );
    }
    return false;
  }
}
