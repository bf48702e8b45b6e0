import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SlackFrontEnd } from "../../../src/platforms/slack/slack-front-end.ts";
import { FakeSlack } from "../../harness/fake-slack/fake-slack.ts";
import {
  blockText,
  CHANNEL,
  frontEnd,
  GROUP_MEMBER,
  type MemoryLog,
  OPERATOR,
  OPERATOR_GROUP,
  VISITOR,
} from "./helpers.ts";
import { TestCore, TINY_PNG } from "./test-core.ts";

let fake: FakeSlack;
let core: TestCore;
let slack: SlackFrontEnd;
let log: MemoryLog;

beforeEach(async () => {
  fake = await FakeSlack.start({ userGroups: { [OPERATOR_GROUP]: [GROUP_MEMBER] } });
  core = new TestCore({ users: [OPERATOR], groups: [OPERATOR_GROUP] });
  ({ slack, log } = frontEnd(fake, core));
  await slack.start();
});

afterEach(async () => {
  await slack.stop();
  await fake.stop();
  expect(log.lines.join("\n")).not.toMatch(/xox[bp]-fake|xapp-fake/);
  expect(fake.link.badAcks).toEqual([]);
});

describe("Slack front end over Socket Mode", () => {
  it("acks before the slow command answers, then replies in the channel with the chart uploaded", async () => {
    let release = () => {};
    core.gate = new Promise((resolve) => {
      release = resolve;
    });
    const delivery = await fake.sendSlashCommand({ text: "status exp001", userId: VISITOR });
    await delivery.acked;
    // The ack went out while the core was still working: nothing was posted yet.
    await fake.waitFor(() => core.executing === 1, 5000, "the core to be called");
    expect(fake.calls("chat.postMessage")).toHaveLength(0);
    release();

    const posted = await fake.waitFor(() => fake.messages[0], 5000, "the reply");
    expect(posted.channel).toBe(CHANNEL);
    const text = blockText(posted.blocks);
    expect(text).toContain("exp001: step 549 of 128000");
    expect(text).toContain("*Step time*\\n18.1 s");
    expect(text).toContain("549/4000 (13.7%)");
    expect(text).toContain("```");
    expect(core.requests[0]).toMatchObject({
      subcommand: "status",
      args: { run: "exp001" },
      invoker: { platform: "slack", userId: VISITOR, channelId: CHANNEL, roles: [] },
    });

    const file = await fake.waitFor(
      () => [...fake.files.values()].find((f) => f.completed),
      5000,
      "the chart",
    );
    expect(file.filename).toBe("exp001-status.png");
    expect(file.channel).toBe(CHANNEL);
    expect(file.bytes?.equals(TINY_PNG)).toBe(true);
    expect(fake.received.map((c) => c.method)).toEqual(
      expect.arrayContaining([
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
      ]),
    );
  });

  it("refuses a mutating command to a person who is not an operator, privately", async () => {
    const delivery = await fake.sendSlashCommand({ text: "next-phase exp001", userId: VISITOR });
    await delivery.acked;
    const response = await fake.waitFor(() => fake.responses[0], 5000, "the refusal");
    expect(response.body.response_type).toBe("ephemeral");
    expect(blockText(response.body.blocks as unknown[])).toContain("needs an operator");
    expect(fake.calls("chat.postMessage")).toHaveLength(0);
  });

  it("looks user groups up so a group member counts as an operator", async () => {
    await fake.sendSlashCommand({ text: "set workers=4 batch=2", userId: GROUP_MEMBER });
    const posted = await fake.waitFor(() => fake.messages[0], 5000, "the confirmation");
    expect(core.requests[0]?.invoker.roles).toEqual([OPERATOR_GROUP]);
    expect(core.requests[0]?.args).toMatchObject({ workers: "4", batch: "2" });
    expect(blockText(posted.blocks)).toContain('"action_id":"trainops:confirm:c1"');
    expect(fake.calls("usergroups.users.list")[0]?.args.usergroup).toBe(OPERATOR_GROUP);
  });

  it("lets only the requester press Confirm; the press applies once and follow-ups land in the thread", async () => {
    await fake.sendSlashCommand({ text: "set exp001 workers=4", userId: OPERATOR });
    const confirmation = await fake.waitFor(() => fake.messages[0], 5000, "the confirmation");
    const press = (userId: string) =>
      fake.pressButton({
        actionId: "trainops:confirm:c1",
        value: "confirm:c1",
        userId,
        channelId: CHANNEL,
        messageTs: confirmation.ts,
        messageBlocks: confirmation.blocks,
      });

    await (await press(VISITOR)).acked;
    const refusal = await fake.waitFor(() => fake.responses[0], 5000, "the refusal");
    expect(refusal.body.response_type).toBe("ephemeral");
    expect(refusal.body.replace_original).toBe(false);
    expect(blockText(refusal.body.blocks as unknown[])).toContain("Only <@U0OPERATOR1> can press");
    expect(confirmation.history).toHaveLength(0);

    await (await press(OPERATOR)).acked;
    const result = await fake.waitFor(
      () => fake.messages.find((m) => m.threadTs === confirmation.ts),
      5000,
      "the result",
    );
    expect(blockText(result.blocks)).toContain("Applying set");
    // The buttons came off the original message, saying who pressed.
    expect(confirmation.history).toHaveLength(1);
    expect(blockText(confirmation.blocks)).not.toContain('"type":"actions"');
    expect(blockText(confirmation.blocks)).toContain("pressed by <@U0OPERATOR1>");
    const followUp = await fake.waitFor(
      () => fake.messages.find((m) => m.text.startsWith("Restarted")),
      5000,
      "the follow-up",
    );
    expect(followUp.threadTs).toBe(confirmation.ts);

    await (await press(OPERATOR)).acked;
    await fake.waitFor(() => fake.responses.length === 2, 5000, "the second answer");
    expect(blockText(fake.responses[1]?.body.blocks as unknown[])).toContain("Already applied");
    expect(core.presses.map((p) => p.invoker.userId)).toEqual([VISITOR, OPERATOR, OPERATOR]);
  });

  it("splits each subcommand's text into the neutral request", async () => {
    const cases: [string, string, Record<string, string>][] = [
      ["status", "status", {}],
      ["status exp002", "status", { run: "exp002" }],
      ["plan exp001", "plan", { run: "exp001" }],
      ["next-phase", "next-phase", {}],
      ["set workers=4 batch=2", "set", { workers: "4", batch: "2" }],
      ["set exp001 workers:8", "set", { run: "exp001", workers: "8" }],
      ["restart exp001", "restart", { run: "exp001" }],
      ["rollback", "rollback", {}],
      ["logs exp001 120", "logs", { run: "exp001", lines: "120" }],
      ["errors exp002", "errors", { run: "exp002" }],
      [
        'mute exp001 gpu_idle 2h "known slow disk"',
        "mute",
        { run: "exp001", rule: "gpu_idle", duration: "2h", reason: "known slow disk" },
      ],
      ["mute 30m “curly quotes work”", "mute", { duration: "30m", reason: "curly quotes work" }],
      ["unmute exp001 gpu_idle", "unmute", { run: "exp001", rule: "gpu_idle" }],
      ["chart exp001 vram 6h", "chart", { run: "exp001", metric: "vram", window: "6h" }],
      ["help", "help", {}],
      ["", "help", {}],
      [
        "mute 1h disk &lt;full&gt; &amp; slow",
        "mute",
        { duration: "1h", reason: "disk <full> & slow" },
      ],
    ];
    for (const [text] of cases) {
      await (await fake.sendSlashCommand({ text, userId: OPERATOR })).acked;
    }
    await fake.waitFor(() => core.requests.length === cases.length, 10_000, "every command");
    cases.forEach(([text, subcommand, args], i) => {
      const request = core.requests[i];
      expect({ text, subcommand: request?.subcommand, args: request?.args }).toEqual({
        text,
        subcommand,
        args,
      });
    });
  });

  it("reconnects when Slack asks it to and keeps answering", async () => {
    expect(fake.connectionsOpened).toBe(1);
    fake.requestReconnect();
    await fake.waitFor(
      () => fake.connectionsOpened === 2 && fake.openConnections === 1,
      10_000,
      "the reconnect",
    );
    await fake.waitFor(() => slack.connected, 5000, "connected again");
    await (await fake.sendSlashCommand({ text: "help", userId: VISITOR })).acked;
    await fake.waitFor(() => fake.messages[0], 5000, "the reply after reconnecting");
  });

  it("stop() waits for the close handshake", async () => {
    expect(fake.openConnections).toBe(1);
    await slack.stop();
    await fake.waitFor(() => fake.openConnections === 0, 2000, "the link to close");
    // 1000: the client sent a close frame and the handshake completed before stop() returned.
    expect(fake.link.closeCodes).toEqual([1000]);
  });

  it("still posts the reply when the chart upload fails, and says so in the log", async () => {
    fake.failNext("files.completeUploadExternal", 1, { error: "not_in_channel" });
    await (await fake.sendSlashCommand({ text: "status exp001", userId: VISITOR })).acked;
    await fake.waitFor(() => fake.messages[0], 5000, "the reply");
    await fake.waitFor(
      () => log.lines.find((l) => l.includes("chart exp001-status.png was not uploaded")),
      5000,
      "the warning",
    );
    expect(log.lines.join("\n")).toContain("not_in_channel: the bot is not in the channel");
  });
});
