import type { BotCore } from "../../../src/bot/core/command-request.ts";
import type { SlackConfig } from "../../../src/config/schema.ts";
import type { SlackLog } from "../../../src/platforms/slack/bolt-logger.ts";
import {
  createSlackFrontEnd,
  type SlackFrontEnd,
  type SlackFrontEndOptions,
} from "../../../src/platforms/slack/slack-front-end.ts";
import type { FakeSlack } from "../../harness/fake-slack/fake-slack.ts";

export const OPERATOR = "U0OPERATOR1";
export const GROUP_MEMBER = "U0GROUPMEM1";
export const VISITOR = "U0VISITOR01";
export const OPERATOR_GROUP = "S0OPSGROUP1";
export const CHANNEL = "C0CHANNEL01";
export const ALERT_CHANNEL = "C0ALERTS001";

/** A log the tests can read; fails loudly if a token ever reaches it. */
export class MemoryLog implements SlackLog {
  readonly lines: string[] = [];
  debug(msg: string) {
    this.lines.push(`debug ${msg}`);
  }
  info(msg: string) {
    this.lines.push(`info ${msg}`);
  }
  warn(msg: string) {
    this.lines.push(`warn ${msg}`);
  }
  error(msg: string) {
    this.lines.push(`error ${msg}`);
  }
}

/** The `slack:` section pointing at a fake. */
export function slackConfig(fake: FakeSlack, overrides: Partial<SlackConfig> = {}): SlackConfig {
  return {
    botToken: fake.botToken,
    appToken: fake.appToken,
    mode: "socket",
    port: 3000,
    alertChannel: ALERT_CHANNEL,
    operators: { users: [OPERATOR], userGroups: [OPERATOR_GROUP] },
    apiUrl: fake.apiUrl,
    ...overrides,
  };
}

/** A front end wired for fast tests: quick retries, short back-off. */
export function frontEnd(
  fake: FakeSlack,
  core: BotCore,
  overrides: Partial<SlackConfig> = {},
  options: Partial<SlackFrontEndOptions> = {},
): { slack: SlackFrontEnd; log: MemoryLog } {
  const log = new MemoryLog();
  const slack = createSlackFrontEnd({
    config: slackConfig(fake, overrides),
    core,
    log,
    webClientOptions: {
      retryConfig: { retries: 1, minTimeout: 10, maxTimeout: 50 },
      timeout: 5000,
    },
    backoff: { initialMs: 50, maxMs: 200 },
    pingTimeoutMs: 3000,
    ...options,
  });
  return { slack, log };
}

/** Blocks of a posted message flattened to their visible text, for content asserts. */
export function blockText(blocks: unknown[]): string {
  return JSON.stringify(blocks);
}
