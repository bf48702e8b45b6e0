import type { Logger } from "pino";
import type { BotCore } from "../bot/core/command-request.ts";
import type { Config } from "../config/schema.ts";
import type { FrontEnd } from "./app.ts";

/**
 * The chat platforms' modules a config uses, loaded by {@link chatPlatforms}: discord.js and
 * Bolt (with their HTTP clients) are megabytes of code a daemon without chat never loads.
 */
export interface ChatPlatforms {
  discord: typeof import("../platforms/discord/discord-front-end.ts") | null;
  slack: typeof import("../platforms/slack/slack-front-end.ts") | null;
}

/** Loads the modules of the chat platforms `config` names a token for, and no other. */
export async function chatPlatforms(config: Config): Promise<ChatPlatforms> {
  const [discord, slack] = await Promise.all([
    config.discord?.token ? import("../platforms/discord/discord-front-end.ts") : null,
    config.slack?.botToken ? import("../platforms/slack/slack-front-end.ts") : null,
  ]);
  return { discord, slack };
}

/**
 * The chat front ends whose credentials are present: Discord when `discord.token` resolves to a
 * non-empty value; Slack when the tokens of its mode do (bot token plus app token for Socket
 * Mode, or signing secret for HTTP mode).
 */
export function chatFrontEnds(options: {
  config: Config;
  core: BotCore;
  log: Logger;
  /** The platforms' modules, from {@link chatPlatforms}. */
  platforms: ChatPlatforms;
}): FrontEnd[] {
  const { config, core, log, platforms } = options;
  const frontEnds: FrontEnd[] = [];
  if (config.discord?.token && platforms.discord) {
    const discordLog = log.child({ frontEnd: "discord" });
    const discord = platforms.discord.createDiscordFrontEnd({
      config: config.discord,
      core,
      log: {
        debug: (details, message) => discordLog.debug(details, message),
        info: (details, message) => discordLog.info(details, message),
        warn: (details, message) => discordLog.warn(details, message),
        error: (details, message) => discordLog.error(details, message),
      },
    });
    frontEnds.push({
      name: "discord",
      sink: discord.sink,
      start: () => discord.start(),
      stop: () => discord.stop(),
    });
  }
  const slack = config.slack;
  const slackReady =
    slack?.botToken &&
    (slack.mode === "socket" ? Boolean(slack.appToken) : Boolean(slack.signingSecret));
  if (slack && slackReady && platforms.slack) {
    const slackLog = log.child({ frontEnd: "slack" });
    const front = platforms.slack.createSlackFrontEnd({
      config: slack,
      core,
      log: {
        debug: (message) => slackLog.debug(message),
        info: (message) => slackLog.info(message),
        warn: (message) => slackLog.warn(message),
        error: (message) => slackLog.error(message),
      },
    });
    frontEnds.push({
      name: "slack",
      sink: front.sink,
      start: () => front.start(),
      stop: () => front.stop(),
    });
  } else if (slack?.botToken) {
    log.warn(
      slack.mode === "socket"
        ? "slack.mode is socket but slack.appToken (SLACK_APP_TOKEN) is empty: Slack stays off"
        : "slack.mode is http but slack.signingSecret (SLACK_SIGNING_SECRET) is empty: Slack stays off",
    );
  }
  return frontEnds;
}
