import { afterEach, describe, expect, it } from "vitest";
import {
  createSlackFrontEnd,
  type SlackFrontEnd,
} from "../../../src/platforms/slack/slack-front-end.ts";
import { SlackSetupError, slackConfigured } from "../../../src/platforms/slack/slack-settings.ts";
import { FakeSlack } from "../../harness/fake-slack/fake-slack.ts";
import { frontEnd, type MemoryLog, OPERATOR, slackConfig, VISITOR } from "./helpers.ts";
import { TestCore } from "./test-core.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function track(fake: FakeSlack, slack?: SlackFrontEnd): void {
  cleanups.push(() => fake.stop());
  if (slack) cleanups.push(() => slack.stop());
}

const core = () => new TestCore({ users: [OPERATOR], groups: [] });

/** How many connection attempts the front end has logged as failed because Slack is down. */
const failedAttempts = (log: MemoryLog): number =>
  log.lines.filter((line) => /Slack is unreachable .*attempt \d+ failed/.test(line)).length;

describe("Slack start-up", () => {
  it("names what is missing for the chosen mode", async () => {
    const fake = await FakeSlack.start({ startDown: true });
    track(fake);
    const make = (overrides: Parameters<typeof slackConfig>[1]) => () =>
      createSlackFrontEnd({ config: slackConfig(fake, overrides), core: core() });
    expect(make({ appToken: "" })).toThrow(SlackSetupError);
    expect(make({ appToken: "" })).toThrow("slack.mode is socket but SLACK_APP_TOKEN is empty");
    expect(make({ botToken: undefined })).toThrow("slack.botToken is empty: set SLACK_BOT_TOKEN");
    // An unresolved placeholder counts as empty.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text of a config value
    expect(make({ appToken: "${SLACK_APP_TOKEN}" })).toThrow("SLACK_APP_TOKEN is empty");
    expect(make({ mode: "http", signingSecret: "" })).toThrow(
      "slack.mode is http but SLACK_SIGNING_SECRET is empty",
    );
    expect(make({ botToken: "xoxp-user-token" })).toThrow("starting with xoxb-");
    expect(slackConfigured(slackConfig(fake))).toBe(true);
    expect(slackConfigured(slackConfig(fake, { appToken: "" }))).toBe(false);
    expect(slackConfigured(slackConfig(fake, { mode: "http", signingSecret: "s" }))).toBe(true);
    expect(slackConfigured(undefined)).toBe(false);
  });

  it("survives Slack being down at start and connects once it comes up", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    cleanups.push(async () => {
      process.off("unhandledRejection", onUnhandled);
    });

    const fake = await FakeSlack.start({ startDown: true });
    const { slack, log } = frontEnd(fake, core());
    track(fake, slack);
    let started = false;
    const starting = slack.start().then(() => {
      started = true;
    });
    // Alerts meanwhile: retryable, so the outbox keeps them.
    const result = await slack.sink.deliver({ title: "exp001: OOM", severity: "critical" }, "k1");
    expect(result).toMatchObject({ ok: false, retryable: true });
    // Barrier: two attempts have failed, and start() is still waiting for a connection.
    await fake.waitFor(() => failedAttempts(log) >= 2, 10_000, "two failed connection attempts");
    expect(started).toBe(false);
    expect(log.lines.join("\n")).toMatch(/Slack is unreachable/);

    await fake.up();
    await starting;
    expect(slack.connected).toBe(true);
    expect(await slack.sink.deliver({ title: "exp001: OOM", severity: "critical" }, "k1")).toEqual({
      ok: true,
    });
    await (await fake.sendSlashCommand({ text: "help", userId: VISITOR })).acked;
    await fake.waitFor(() => fake.messages.length === 2, 5000, "the reply");
    expect(unhandled).toEqual([]);
  });

  it("reconnects after Slack drops the link and is unreachable for a while", async () => {
    const fake = await FakeSlack.start();
    const { slack, log } = frontEnd(fake, core());
    track(fake, slack);
    await slack.start();
    await fake.down();
    await fake.waitFor(() => !slack.connected, 5000, "the link to drop");
    // Unreachable for a while: until a reconnect attempt has failed.
    await fake.waitFor(() => failedAttempts(log) >= 1, 10_000, "a failed reconnect");
    await fake.up();
    await fake.waitFor(
      () => slack.connected && fake.openConnections === 1,
      10_000,
      "the reconnect",
    );
    await (await fake.sendSlashCommand({ text: "help", userId: VISITOR })).acked;
    await fake.waitFor(() => fake.messages.length === 1, 5000, "the reply");
  });

  it("stops retrying and says which token Slack refused", async () => {
    const fake = await FakeSlack.start();
    const { slack, log } = frontEnd(fake, core(), { botToken: "xoxb-wrong" });
    track(fake, slack);
    await expect(slack.start()).rejects.toThrow(
      /auth\.test rejected SLACK_BOT_TOKEN: Slack answered invalid_auth/,
    );
    const { slack: slack2 } = frontEnd(fake, core(), { appToken: "xapp-wrong" });
    track(fake, slack2);
    await expect(slack2.start()).rejects.toThrow(
      /apps\.connections\.open rejected SLACK_APP_TOKEN/,
    );
    expect(log.lines.join("\n")).not.toContain("xoxb-wrong");
  });

  it("a Socket Mode link without hello is given up and retried", async () => {
    const fake = await FakeSlack.start();
    fake.link.silentOnce = true;
    const { slack } = frontEnd(fake, core(), {}, { helloTimeoutMs: 300 });
    track(fake, slack);
    await slack.start();
    expect(fake.connectionsOpened).toBe(2);
  });
});
