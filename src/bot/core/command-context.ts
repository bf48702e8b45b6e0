import type { RunConfig } from "../../config/schema.ts";
import type { Message } from "../../message/message.ts";
import type { BotCoreOptions } from "./bot-core-options.ts";
import type { CommandRequest, Invoker, Responder, SubcommandSpec } from "./command-request.ts";

/** What one command handler gets. */
export interface CommandContext {
  options: BotCoreOptions;
  spec: SubcommandSpec;
  request: CommandRequest;
  invoker: Invoker;
  run: RunConfig;
  responder: Responder;
  now(): number;
  /** Tracks background work (an apply after Confirm) so `idle()` can wait for it. */
  track(work: Promise<unknown>): void;
}

/** A subcommand's implementation. */
export type CommandHandler = (context: CommandContext) => Promise<Message>;

/** An ephemeral message for refusals and mistakes. */
export function privateNotice(
  title: string,
  line: string,
  severity: Message["severity"] = "warning",
): Message {
  return { title, severity, lines: [line], ephemeral: true };
}

/** The audit trail's view of who asked. */
export function auditWho(invoker: Invoker): {
  platform: string;
  userId: string;
  userName: string;
  channelId: string;
} {
  return {
    platform: invoker.platform,
    userId: invoker.userId,
    userName: invoker.userName,
    channelId: invoker.channelId,
  };
}
