import type { Message } from "../../message/message.ts";
import type { OperationKind } from "../../ops/run-operations.ts";

/** Which front end a request came through. */
export type Platform = "discord" | "slack" | "console";

/** Who asked, as the front end knows them; ids are the platform's own. */
export interface Invoker {
  platform: Platform;
  userId: string;
  userName: string;
  /** Discord role ids or Slack user-group ids the user belongs to. */
  roles: string[];
  channelId: string;
}

/** The `/train` subcommands. */
export const SUBCOMMANDS = [
  "status",
  "next-phase",
  "set",
  "restart",
  "stop",
  "rollback",
  "plan",
  "logs",
  "errors",
  "mute",
  "unmute",
  "chart",
  "digest",
  "help",
] as const;
export type Subcommand = (typeof SUBCOMMANDS)[number];

/**
 * One `/train` invocation, already split into named arguments by the front end (Discord's typed
 * options, Slack's `key=value` text, the console's words). Values are raw strings: the command
 * layer validates them and answers with a clear message.
 */
export interface CommandRequest {
  subcommand: string;
  args: Record<string, string | undefined>;
  invoker: Invoker;
}

/** A button press: the button id from the message and who pressed it. */
export interface ButtonPress {
  buttonId: string;
  invoker: Invoker;
}

/**
 * Lets a command report progress after its first reply, in the same message or thread
 * (Discord: edit or follow-up; Slack: response_url or chat.update; console: print).
 */
export interface Responder {
  followUp(message: Message): Promise<void>;
}

/** Typed options of a subcommand, for Discord registration, Slack help and the console. */
export interface OptionSpec {
  name: string;
  description: string;
  type: "string" | "integer";
  required: boolean;
  min?: number;
  max?: number;
  choices?: string[];
  /** Run names: the front end offers autocomplete. */
  autocomplete?: boolean;
}

export interface SubcommandSpec {
  name: Subcommand;
  description: string;
  options: OptionSpec[];
  /** Changes the run: needs an operator and a confirmation. */
  mutating: boolean;
  /**
   * False for mutating commands that apply at once without Confirm / Cancel (mute, unmute):
   * they still need an operator and are audited. Defaults to true.
   */
  confirms?: boolean;
  /**
   * The operation this command previews and, on Confirm, applies (src/ops/operations): chat
   * names it here instead of switching on the command's name.
   */
  operation?: OperationKind;
}

/** What every front end talks to. Implemented in src/bot/core. */
export interface BotCore {
  readonly subcommands: readonly SubcommandSpec[];
  /** Runs a command and returns the first reply; later progress goes through `responder`. */
  execute(request: CommandRequest, responder: Responder): Promise<Message>;
  /** Handles a Confirm / Cancel press. */
  press(press: ButtonPress, responder: Responder): Promise<Message>;
  /** Suggestions for an autocomplete option (run names) matching what was typed so far. */
  autocomplete(option: string, typed: string): string[];
}
