import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SlackFrontEnd } from "../../../src/platforms/slack/slack-front-end.ts";
import { FakeSlack, type HttpTarget } from "../../harness/fake-slack/fake-slack.ts";
import { CHANNEL, frontEnd, OPERATOR, VISITOR } from "./helpers.ts";
import { TestCore } from "./test-core.ts";

const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";

let fake: FakeSlack;
let core: TestCore;
let slack: SlackFrontEnd;
let target: HttpTarget;

beforeEach(async () => {
  fake = await FakeSlack.start();
  core = new TestCore({ users: [OPERATOR], groups: [] });
  ({ slack } = frontEnd(
    fake,
    core,
    { mode: "http", appToken: undefined, signingSecret: SECRET },
    { listenPort: 0 },
  ));
  await slack.start();
  target = { url: `http://127.0.0.1:${slack.httpPort()}/slack/events`, signingSecret: SECRET };
});

afterEach(async () => {
  await slack.stop();
  await fake.stop();
});

/** What the core gets from the correctly signed command of {@link signedCommandAnswered}. */
const SIGNED_STATUS = expect.objectContaining({ subcommand: "status", args: { run: "exp002" } });

/**
 * Barrier for "a refused request ran nothing": a correctly signed command sent after it is
 * answered in the channel, so whatever the refused one could have set off had its turn first.
 */
async function signedCommandAnswered(): Promise<void> {
  const delivery = await fake.sendSlashCommand({ text: "status exp002", userId: VISITOR }, target);
  expect((await delivery.acked).status).toBe(200);
  await fake.waitFor(() => fake.messages[0], 5000, "the answer to a signed command sent after");
}

describe("Slack front end over HTTP", () => {
  it("runs a correctly signed slash command and answers in the channel", async () => {
    const delivery = await fake.sendSlashCommand(
      { text: "status exp002", userId: VISITOR },
      target,
    );
    expect((await delivery.acked).status).toBe(200);
    const posted = await fake.waitFor(() => fake.messages[0], 5000, "the reply");
    expect(posted.channel).toBe(CHANNEL);
    expect(core.requests[0]).toMatchObject({ subcommand: "status", args: { run: "exp002" } });
    expect(fake.openConnections).toBe(0);
    expect(fake.calls("apps.connections.open")).toHaveLength(0);
  });

  it("runs a signed button press", async () => {
    await (await fake.sendSlashCommand({ text: "next-phase", userId: OPERATOR }, target)).acked;
    const confirmation = await fake.waitFor(() => fake.messages[0], 5000, "the confirmation");
    const press = await fake.pressButton(
      {
        actionId: "trainops:confirm:c1",
        value: "confirm:c1",
        userId: OPERATOR,
        channelId: CHANNEL,
        messageTs: confirmation.ts,
        messageBlocks: confirmation.blocks,
      },
      target,
    );
    expect((await press.acked).status).toBe(200);
    await fake.waitFor(
      () => fake.messages.find((m) => m.threadTs === confirmation.ts),
      5000,
      "the result",
    );
    expect(core.presses).toHaveLength(1);
  });

  it("rejects a bad signature and runs nothing", async () => {
    const delivery = await fake.sendSlashCommand(
      { text: "restart exp001", userId: OPERATOR },
      {
        ...target,
        signature: "v0=0000000000000000000000000000000000000000000000000000000000000000",
      },
    );
    expect((await delivery.acked).status).toBe(401);
    const wrongSecret = await fake.sendSlashCommand(
      { text: "restart exp001", userId: OPERATOR },
      { ...target, signingSecret: "not-the-secret" },
    );
    expect((await wrongSecret.acked).status).toBe(401);
    await signedCommandAnswered();
    expect(core.requests).toEqual([SIGNED_STATUS]);
    expect(fake.messages).toHaveLength(1);
    expect(fake.responses).toHaveLength(0);
  });

  it("rejects a correctly signed but stale request (older than 5 minutes)", async () => {
    const stale = Math.floor(Date.now() / 1000) - 6 * 60;
    const delivery = await fake.sendSlashCommand(
      { text: "restart exp001", userId: OPERATOR },
      { ...target, timestampSec: stale },
    );
    expect((await delivery.acked).status).toBe(401);
    await signedCommandAnswered();
    expect(core.requests).toEqual([SIGNED_STATUS]);
    expect(fake.messages).toHaveLength(1);
  });

  it("says which port is taken", async () => {
    const { slack: second } = frontEnd(
      fake,
      core,
      { mode: "http", appToken: undefined, signingSecret: SECRET },
      { listenPort: slack.httpPort() },
    );
    await expect(second.start()).rejects.toThrow(
      /port \d+ cannot be listened on .*set slack\.port to a free port/,
    );
    await second.stop();
  });

  it("serves commands while Slack's Web API is down at start", async () => {
    await fake.down();
    const { slack: early } = frontEnd(
      fake,
      core,
      { mode: "http", appToken: undefined, signingSecret: SECRET },
      { listenPort: 0 },
    );
    let started = false;
    void early.start().then(() => {
      started = true;
    });
    await fake.waitFor(() => early.httpPort(), 5000, "the HTTP listener");
    const via = { url: `http://127.0.0.1:${early.httpPort()}/slack/events`, signingSecret: SECRET };
    const delivery = await fake.sendSlashCommand({ text: "status", userId: VISITOR }, via);
    expect((await delivery.acked).status).toBe(200);
    await fake.waitFor(() => core.requests.length === 1, 5000, "the command to run");
    expect(started).toBe(false);
    await fake.up();
    await fake.waitFor(() => started, 5000, "start() once Slack answers");
    await early.stop();
  });
});
