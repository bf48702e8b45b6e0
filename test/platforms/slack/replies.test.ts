import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SlackFrontEnd } from "../../../src/platforms/slack/slack-front-end.ts";
import { FakeSlack } from "../../harness/fake-slack/fake-slack.ts";
import { blockText, CHANNEL, frontEnd, type MemoryLog, OPERATOR, VISITOR } from "./helpers.ts";
import { TestCore } from "./test-core.ts";

let fake: FakeSlack;
let core: TestCore;
let slack: SlackFrontEnd;
let log: MemoryLog;

beforeEach(async () => {
  fake = await FakeSlack.start();
  core = new TestCore({ users: [OPERATOR], groups: [] });
  ({ slack, log } = frontEnd(fake, core, { operators: { users: [OPERATOR], userGroups: [] } }));
  await slack.start();
});

afterEach(async () => {
  await slack.stop();
  await fake.stop();
});

describe("Slack replies", () => {
  it("waits out a 429 on a reply for retry_after and posts it once", async () => {
    fake.failNext("chat.postMessage", 1, { retryAfter: 1 });
    await (await fake.sendSlashCommand({ text: "help", userId: VISITOR })).acked;
    await fake.waitFor(() => fake.messages[0], 10_000, "the reply");
    const calls = fake.calls("chat.postMessage");
    expect(calls.map((c) => Boolean(c.failed))).toEqual([true, false]);
    expect(fake.messages).toHaveLength(1);
  });

  it("answers through the response_url when the bot is not in the channel", async () => {
    fake.failNext("chat.postMessage", 1, { error: "not_in_channel" });
    await (await fake.sendSlashCommand({ text: "help", userId: VISITOR })).acked;
    const response = await fake.waitFor(() => fake.responses[0], 5000, "the reply");
    expect(response.body).toMatchObject({ response_type: "in_channel", replace_original: false });
    expect(fake.messages).toHaveLength(0);
  });

  it("tells the person privately when the command fails inside", async () => {
    core.execute = async () => {
      throw new Error("the store is locked");
    };
    await (await fake.sendSlashCommand({ text: "status", userId: VISITOR })).acked;
    const response = await fake.waitFor(() => fake.responses[0], 5000, "the error");
    expect(response.body.response_type).toBe("ephemeral");
    expect(blockText(response.body.blocks as unknown[])).toContain("Could not run `/train status`");
    expect(blockText(response.body.blocks as unknown[])).toContain("the store is locked");
    expect(log.lines.some((l) => l.startsWith("error Slack: `/train status` failed"))).toBe(true);
  });

  it("falls back to chat.postEphemeral when the response_url is used up", async () => {
    fake.failNext("response_url", 1, { status: 404 });
    await (await fake.sendSlashCommand({ text: "next-phase", userId: VISITOR })).acked;
    const note = await fake.waitFor(() => fake.ephemerals[0], 5000, "the private note");
    expect(note).toMatchObject({ channel: CHANNEL, user: VISITOR });
    expect(blockText(note.blocks)).toContain("needs an operator");
  });
});
