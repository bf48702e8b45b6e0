import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SlackFrontEnd } from "../../../src/platforms/slack/slack-front-end.ts";
import { type BotFixture, createBotFixture, oomAlert, planSample } from "../../bot/bot-fixture.ts";
import { checkMessageLimits } from "../../harness/fake-slack/block-limits.ts";
import { FakeSlack } from "../../harness/fake-slack/fake-slack.ts";
import { blockText, frontEnd } from "./helpers.ts";

// The fixture's config: slack.operators = { users: [U111], userGroups: [S9] }.
const OPERATOR = "U111";
const GROUP_MEMBER = "U222";
const VIEWER = "U333";
const CHANNEL = "C0CHANNEL01";

let fixture: BotFixture;
let fake: FakeSlack;
let slack: SlackFrontEnd;

beforeEach(async () => {
  fixture = createBotFixture();
  const now = fixture.clock.now();
  for (let i = 60; i >= 0; i--) fixture.samples.insert(planSample("exp001", now - i * 60_000));
  fake = await FakeSlack.start({ userGroups: { S9: [GROUP_MEMBER] } });
  ({ slack } = frontEnd(fake, fixture.core, {
    operators: { users: [OPERATOR], userGroups: ["S9"] },
  }));
  await slack.start();
});

afterEach(async () => {
  await slack.stop();
  await fake.stop();
  await fixture.core.idle();
  fixture.close();
});

describe("Slack with the real command layer", () => {
  it("/train status answers with the run's figures and its chart", async () => {
    await (await fake.sendSlashCommand({ text: "status exp001", userId: VIEWER })).acked;
    const posted = await fake.waitFor(() => fake.messages[0], 10_000, "the status reply");
    expect(checkMessageLimits(posted.text, posted.blocks)).toBeUndefined();
    expect(blockText(posted.blocks)).toContain("exp001");
    expect(blockText(posted.blocks)).toMatch(/549/);
    const chart = await fake.waitFor(
      () => [...fake.files.values()].find((f) => f.completed),
      10_000,
      "the chart",
    );
    expect(chart.bytes?.subarray(1, 4).toString()).toBe("PNG");
    expect(chart.channel).toBe(CHANNEL);
  });

  it("/train plan answers with the results table and uploads the phase comparison chart", async () => {
    await (await fake.sendSlashCommand({ text: "plan exp001", userId: VIEWER })).acked;
    const posted = await fake.waitFor(() => fake.messages[0], 10_000, "the plan reply");
    expect(checkMessageLimits(posted.text, posted.blocks)).toBeUndefined();
    expect(blockText(posted.blocks)).toContain("safe-optimization");
    const chart = await fake.waitFor(
      () => [...fake.files.values()].find((f) => f.completed),
      10_000,
      "the plan chart",
    );
    expect(chart.filename).toBe("exp001-plan.png");
    expect(chart.bytes?.subarray(1, 4).toString()).toBe("PNG");
  });

  it("set by a user-group operator: someone else's press is refused, the requester's applies once", async () => {
    await (await fake.sendSlashCommand({ text: "set exp001 workers=4", userId: GROUP_MEMBER }))
      .acked;
    const confirmation = await fake.waitFor(() => fake.messages[0], 10_000, "the confirmation");
    const buttons = JSON.parse(blockText(confirmation.blocks)).find(
      (b: { type: string }) => b.type === "actions",
    );
    const confirm = buttons.elements.find((e: { value: string }) => e.value.startsWith("confirm:"));
    const press = (userId: string) =>
      fake.pressButton({
        actionId: confirm.action_id,
        value: confirm.value,
        userId,
        channelId: CHANNEL,
        messageTs: confirmation.ts,
        messageBlocks: confirmation.blocks,
      });

    await (await press(OPERATOR)).acked;
    const refusal = await fake.waitFor(() => fake.responses[0], 10_000, "the refusal");
    expect(refusal.body.response_type).toBe("ephemeral");
    expect(fixture.ops.applied).toHaveLength(0);

    await (await press(GROUP_MEMBER)).acked;
    await (await press(GROUP_MEMBER)).acked;
    await fake.waitFor(
      () => fake.messages.some((m) => m.threadTs === confirmation.ts),
      10_000,
      "the result",
    );
    await fixture.core.idle();
    expect(fixture.ops.applied).toHaveLength(1);
    expect(readFileSync(fixture.ops.file, "utf8")).toContain("workers: 4");
    expect(blockText(confirmation.blocks)).not.toContain('"type":"actions"');
  });

  it("gives the core's own validation and refusal messages privately", async () => {
    await (await fake.sendSlashCommand({ text: "set exp001 workers=four", userId: OPERATOR }))
      .acked;
    const invalid = await fake.waitFor(() => fake.responses[0], 10_000, "the validation message");
    expect(invalid.body.response_type).toBe("ephemeral");
    expect(blockText(invalid.body.blocks as unknown[])).toContain(
      "workers must be an integer from 1 to 64; got 'four'",
    );

    await (await fake.sendSlashCommand({ text: "restart exp001", userId: VIEWER })).acked;
    const refusal = await fake.waitFor(() => fake.responses[1], 10_000, "the refusal");
    expect(blockText(refusal.body.blocks as unknown[])).toContain("slack.operators");
    expect(fake.messages).toHaveLength(0);
  });
});

describe("Slack alert buttons with the real command layer", () => {
  it("Mute on an alert posted to the channel mutes it for an operator, privately; Status answers a viewer privately", async () => {
    fixture.alerts.firing = [
      { rule: "cuda_oom", severity: "critical", summary: "CUDA OOM", since: fixture.clock.now() },
    ];
    const alert = oomAlert("exp001", fixture.clock.now());
    expect(await slack.sink.deliver(alert, "slack-buttons")).toEqual({ ok: true });
    const posted = await fake.waitFor(() => fake.messages[0], 10_000, "the alert");
    const actions = JSON.parse(blockText(posted.blocks)).find(
      (b: { type: string }) => b.type === "actions",
    );
    const elements = actions.elements as {
      action_id: string;
      value: string;
      text: { text: string };
    }[];
    expect(elements.map((e) => e.text.text)).toEqual(["Mute 1 h", "Mute 8 h", "Logs", "Status"]);
    const press = (label: string, userId: string) => {
      const e = elements.find((x) => x.text.text === label)!;
      return fake.pressButton({
        actionId: e.action_id,
        value: e.value,
        userId,
        channelId: posted.channel,
        messageTs: posted.ts,
        messageBlocks: posted.blocks,
      });
    };
    await (await press("Mute 1 h", OPERATOR)).acked;
    const muted = await fake.waitFor(() => fake.responses[0], 10_000, "the mute answer");
    expect(muted.body.response_type).toBe("ephemeral");
    expect(blockText(muted.body.blocks as unknown[])).toContain(
      "Muted CUDA OOM alerts of exp001 for 1 h",
    );
    expect(fixture.alerts.silences.map((s) => s.rule)).toEqual(["cuda_oom"]);

    await (await press("Status", VIEWER)).acked;
    const status = await fake.waitFor(() => fake.responses[1], 10_000, "the status answer");
    expect(status.body.response_type).toBe("ephemeral");
    expect(blockText(status.body.blocks as unknown[])).toContain("exp001: step");
    // The alert keeps its buttons for the next person.
    expect(blockText(posted.blocks)).toContain('"type":"actions"');
  });
});
