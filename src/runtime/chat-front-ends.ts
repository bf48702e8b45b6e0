import type { Logger } from "pino";
import type { BotCore } from "../bot/core/command-request.ts";
import type { Config } from "../config/schema.ts";
import { createDiscordFrontEnd } from "../platforms/discord/discord-front-end.ts";
import { createSlackFrontEnd } from "../platforms/slack/slack-front-end.ts";
import type { FrontEnd } from "./app.ts";

/**
 * The chat front ends whose credentials are present: Discord when `discord.token` resolves to a
 * non-empty value; Slack when the tokens of its mode do (bot token plus app token for Socket
 * Mode, or signing secret for HTTP mode).
 */
export function chatFrontEnds(options: { config: Config; core: BotCore; log: Logger }): FrontEnd[] {
  const { config, core, log } = options;
  const frontEnds: FrontEnd[] = [];
  if (config.discord?.token) {
    const discordLog = log.child({ frontEnd: "discord" });
    const discord = createDiscordFrontEnd({
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
  if (slack && slackReady) {
    const slackLog = log.child({ frontEnd: "slack" });
    const front = createSlackFrontEnd({
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
