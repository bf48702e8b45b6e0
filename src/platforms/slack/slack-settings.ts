import type { SlackConfig } from "../../config/schema.ts";
import { SetupError } from "../../core/errors.ts";

/** The Slack section could not be used: names the key, the environment variable and the fix. */
export class SlackSetupError extends SetupError {
  override readonly name = "SlackSetupError";
}

/** What the front end needs, checked: tokens present for the chosen mode. */
export interface SlackSettings {
  mode: "socket" | "http";
  botToken: string;
  appToken?: string;
  signingSecret?: string;
  port: number;
  apiUrl: string;
  alertChannel?: string;
  operatorUsers: readonly string[];
  operatorGroups: readonly string[];
}

function filled(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== "" && !/^\$\{[A-Z0-9_]+\}$/.test(value.trim());
}

/**
 * Checks the `slack:` section for the chosen mode. Every problem names the key and the
 * environment variable that usually feeds it, and what to do.
 */
export function resolveSlackSettings(config: SlackConfig): SlackSettings {
  const problems: string[] = [];
  if (!filled(config.botToken)) {
    problems.push(
      "slack.botToken is empty: set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page",
    );
  } else if (!config.botToken.startsWith("xoxb-")) {
    problems.push(
      "slack.botToken should be a bot token starting with xoxb- (check SLACK_BOT_TOKEN)",
    );
  }
  if (config.mode === "socket") {
    if (!filled(config.appToken)) {
      problems.push(
        "slack.mode is socket but SLACK_APP_TOKEN is empty: create an app-level token with the connections:write scope (Basic Information → App-Level Tokens), or set slack.mode: http",
      );
    } else if (!config.appToken.startsWith("xapp-")) {
      problems.push(
        "slack.appToken should be an app-level token starting with xapp- (check SLACK_APP_TOKEN)",
      );
    }
  } else if (!filled(config.signingSecret)) {
    problems.push(
      "slack.mode is http but SLACK_SIGNING_SECRET is empty: copy the Signing Secret from Basic Information → App Credentials, or set slack.mode: socket",
    );
  }
  if (problems.length > 0) throw new SlackSetupError(problems.join("; "));
  return {
    mode: config.mode,
    botToken: config.botToken as string,
    appToken: config.mode === "socket" ? config.appToken : undefined,
    signingSecret: config.mode === "http" ? config.signingSecret : undefined,
    port: config.port,
    apiUrl: config.apiUrl.endsWith("/") ? config.apiUrl : `${config.apiUrl}/`,
    alertChannel: config.alertChannel,
    operatorUsers: config.operators.users,
    operatorGroups: config.operators.userGroups,
  };
}

/** Whether `trainops start` should connect to Slack: the tokens for the mode resolve. */
export function slackConfigured(config: SlackConfig | undefined): boolean {
  if (!config || !filled(config.botToken)) return false;
  return config.mode === "socket" ? filled(config.appToken) : filled(config.signingSecret);
}
