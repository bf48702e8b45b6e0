import type { BotCore, Invoker } from "../../bot/core/command-request.ts";
import type { Message } from "../../message/message.ts";
import { type Block, escapeMrkdwn } from "./block-kit.ts";
import type { SlackLog } from "./bolt-logger.ts";
import { slashTextToRequest } from "./command-text.ts";
import type { ReplyTarget, SlackReplies } from "./slack-replies.ts";
import type { UserGroupDirectory } from "./user-groups.ts";
import { classifySlackError } from "./web-api-errors.ts";

/** The fields of a slash command payload this front end reads. */
export interface SlashCommand {
  command: string;
  text: string;
  user_id: string;
  user_name: string;
  channel_id: string;
  response_url: string;
}

/** The fields of a `block_actions` payload (one button) this front end reads. */
export interface ButtonAction {
  value: string;
  label: string;
  userId: string;
  userName: string;
  channelId: string;
  messageTs?: string;
  messageText?: string;
  messageBlocks?: Block[];
  responseUrl?: string;
  /** The button sat on a reply only the presser sees (a confirmation asked from a verdict). */
  ephemeral?: boolean;
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function failureMessage(what: string, error: unknown): Message {
  return {
    title: `Could not run ${what}`,
    severity: "critical",
    lines: [
      `${(error as Error).message ?? String(error)}`,
      "Details are in the trainops log; try again in a minute.",
    ],
    ephemeral: true,
  };
}

/**
 * Turns slash commands and button presses into core calls and answers them. Both handlers run
 * after the ack, so Slack's 3-second deadline never waits on the command layer, and neither
 * throws: every failure is logged and, where possible, told privately to the person.
 */
export class SlackInteractions {
  constructor(
    private readonly core: BotCore,
    private readonly replies: SlackReplies,
    private readonly groups: UserGroupDirectory,
    private readonly log: SlackLog,
  ) {}

  private async invoker(userId: string, userName: string, channelId: string): Promise<Invoker> {
    const roles = await this.groups.groupsOf(userId);
    return { platform: "slack", userId, userName, roles, channelId };
  }

  /** `/train …`: parse, run, answer in the channel (or privately), then follow-ups in its thread. */
  async command(command: SlashCommand): Promise<void> {
    const target: ReplyTarget = {
      channelId: command.channel_id,
      userId: command.user_id,
      responseUrl: command.response_url,
    };
    const what = `\`${command.command} ${command.text}\``.replace(/ `$/, "`");
    const first = deferred<string | undefined>();
    try {
      const invoker = await this.invoker(command.user_id, command.user_name, command.channel_id);
      const request = slashTextToRequest(command.text, this.core, invoker);
      const message = await this.core.execute(
        request,
        this.replies.responder(target, first.promise),
      );
      first.resolve(await this.replies.send(target, message));
    } catch (error) {
      first.resolve(undefined);
      await this.fail(target, what, error);
    }
  }

  /**
   * A button press (Confirm / Cancel, or an alert's or verdict's button): the core decides; the
   * buttons come off once it acted. An answer for everyone goes into the pressed message's
   * thread, or, when that message was private to the presser, into the channel itself: a
   * private reply has no thread the channel could see.
   */
  async press(action: ButtonAction): Promise<void> {
    const target: ReplyTarget = {
      channelId: action.channelId,
      userId: action.userId,
      responseUrl: action.responseUrl,
      ...(action.ephemeral ? {} : { threadTs: action.messageTs }),
    };
    const first = deferred<string | undefined>();
    try {
      const invoker = await this.invoker(action.userId, action.userName, action.channelId);
      const result = await this.core.press(
        { buttonId: action.value, invoker },
        this.replies.responder(target, first.promise),
      );
      if (result.ephemeral) {
        await this.replies.sendEphemeral(target, result);
        first.resolve(undefined);
        return;
      }
      await this.retireButtons(action);
      first.resolve(await this.replies.sendToChannel(target, result));
    } catch (error) {
      first.resolve(undefined);
      await this.fail(target, `the "${action.label}" button`, error);
    }
  }

  /** Replaces the pressed message's buttons with who pressed what, so nobody presses again. */
  private async retireButtons(action: ButtonAction): Promise<void> {
    const pressed: Block = {
      type: "context",
      elements: [
        { type: "mrkdwn", text: `*${escapeMrkdwn(action.label)}* pressed by <@${action.userId}>` },
      ],
    };
    // A private reply is not a channel message chat.update can reach; its response_url can
    // replace it (Slack sends no copy of it to keep, so the note stands alone).
    if (action.ephemeral) {
      if (!action.responseUrl) return;
      const replaced = await this.replies.replaceOriginal(
        action.responseUrl,
        `${action.label} pressed`,
        [pressed],
      );
      if (!replaced) this.log.warn("could not remove the buttons of a private confirmation");
      return;
    }
    if (!action.messageTs || !action.messageBlocks) return;
    const blocks = action.messageBlocks.filter((block) => block.type !== "actions");
    blocks.push(pressed);
    try {
      await this.replies.update(
        action.channelId,
        action.messageTs,
        action.messageText || action.label,
        blocks,
      );
    } catch (error) {
      this.log.warn(
        `could not remove the buttons of message ${action.messageTs}: ${classifySlackError(error).error}`,
      );
    }
  }

  private async fail(target: ReplyTarget, what: string, error: unknown): Promise<void> {
    this.log.error(`Slack: ${what} failed: ${(error as Error).message ?? String(error)}`);
    try {
      await this.replies.sendEphemeral(target, failureMessage(what, error));
    } catch (second) {
      this.log.error(`Slack: could not tell the user either: ${classifySlackError(second).error}`);
    }
  }
}
