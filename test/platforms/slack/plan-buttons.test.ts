import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatDateTime } from "../../../src/message/format.ts";
import type { SlackFrontEnd } from "../../../src/platforms/slack/slack-front-end.ts";
import { FakeSlack, type HttpTarget } from "../../harness/fake-slack/fake-slack.ts";
import { TRAINING_YAML } from "../../ops/ops-fixture.ts";
import {
  type ChatOpsFixture,
  createChatOpsFixture,
  FAILED_WITH_OOM_BUTTONS,
} from "../chat-ops-fixture.ts";
import { ALERT_CHANNEL, frontEnd, OPERATOR, VISITOR } from "./helpers.ts";

// Buttons on what the product posts (alerts, verdicts), pressed through Bolt against the fake:
// the fake sends the block_actions payload as Slack does (over Socket Mode, or signed over HTTP),
// and the run operations act on a real trainer and YAML.

const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const NAMES: Record<string, string> = { [OPERATOR]: "alice", [VISITOR]: "carol" };

type Element = { action_id: string; value: string; text: { text: string } };
type Shown = { ts: string; channel: string; blocks: unknown[] };

describe.each(["socket", "http"] as const)("Slack buttons in %s mode", (mode) => {
  let f: ChatOpsFixture;
  let fake: FakeSlack;
  let slack: SlackFrontEnd;
  let target: HttpTarget | undefined;

  beforeEach(async () => {
    f = createChatOpsFixture({ slack: { operators: { users: [OPERATOR], userGroups: [] } } });
    fake = await FakeSlack.start();
    ({ slack } = frontEnd(
      fake,
      f.core,
      mode === "http"
        ? {
            mode: "http",
            appToken: undefined,
            signingSecret: SECRET,
            operators: { users: [OPERATOR], userGroups: [] },
          }
        : { operators: { users: [OPERATOR], userGroups: [] } },
      mode === "http" ? { listenPort: 0 } : {},
    ));
    await slack.start();
    target =
      mode === "http"
        ? { url: `http://127.0.0.1:${slack.httpPort()}/slack/events`, signingSecret: SECRET }
        : undefined;
    f.sinks.push(slack.sink);
  });
  afterEach(async () => {
    await slack.stop();
    await fake.stop();
    await f.close();
  });

  const yaml = () => readFileSync(join(f.ops.dir, "exp.yaml"), "utf8");
  const text = (blocks: unknown) => JSON.stringify(blocks);

  /** The channel message that tells `what` (alone or within a group sent as one message). */
  function posted(what: RegExp): Shown {
    const message = fake.messages.find(
      (m) => m.channel === ALERT_CHANNEL && what.test(text(m.blocks)),
    );
    if (!message) throw new Error(`nothing saying ${what} was posted`);
    return message;
  }
  const buttonsOf = (m: Shown): Element[] =>
    (m.blocks as { type: string; elements?: Element[] }[])
      .filter((b) => b.type === "actions")
      .flatMap((b) => b.elements ?? []);

  /**
   * Presses `label` on `message` as `user`, as Slack sends it; resolves with the private answer
   * posted to the press's response_url (none for an answer that went to the channel).
   */
  async function press(
    message: Shown,
    label: string,
    user = OPERATOR,
    options: { ephemeral?: boolean; answered?: boolean } = {},
  ) {
    const button = buttonsOf(message).find((e) => e.text.text === label);
    if (!button) throw new Error(`no '${label}' on the message`);
    const delivery = await fake.pressButton(
      {
        actionId: button.action_id,
        value: button.value,
        userId: user,
        userName: NAMES[user],
        channelId: message.channel,
        messageTs: message.ts,
        messageBlocks: message.blocks,
        buttonText: label,
        ephemeral: options.ephemeral === true,
      },
      target,
    );
    const acked = await delivery.acked;
    if (mode === "http") expect(acked.status).toBe(200);
    if (options.answered === false) return { delivery, answer: undefined };
    const answer = await fake.waitFor(
      () => fake.responses.find((r) => delivery.responseUrl.endsWith(`/${r.id}`)),
      20_000,
      `the answer to ${label}`,
    );
    return { delivery, answer: answer.body };
  }

  it("Roll back on a failed phase: a visitor is refused; the operator confirms privately, the YAML is restored and audited as theirs; pressed again it is out of date", async () => {
    const start = await f.startPhase1();
    await f.failPhase1(start);
    await f.deliver();
    const verdict = posted(/Phase 1 failed/);
    expect(buttonsOf(verdict).map((e) => e.text.text)).toEqual([...FAILED_WITH_OOM_BUTTONS]);

    const refused = await press(verdict, "Roll back", VISITOR);
    expect(refused.answer?.response_type).toBe("ephemeral");
    expect(text(refused.answer?.blocks)).toContain("Not allowed");
    expect(f.audit.list({ outcomes: ["refused"] }).map((e) => [e.command, e.platform])).toEqual([
      ["rollback", "slack"],
    ]);

    const asked = await press(verdict, "Roll back");
    expect(asked.answer?.response_type).toBe("ephemeral");
    expect(text(asked.answer?.blocks)).toContain("Confirm: ");
    expect(yaml()).toContain("workers: 2 ");
    const confirmation: Shown = {
      ts: "1767225999.000100",
      channel: ALERT_CHANNEL,
      blocks: asked.answer?.blocks as unknown[],
    };
    expect(buttonsOf(confirmation).map((e) => e.text.text)).toEqual(["Confirm", "Cancel"]);

    const before = fake.messages.length;
    const confirmed = await press(confirmation, "Confirm", OPERATOR, {
      ephemeral: true,
      answered: false,
    });
    await expect.poll(yaml, { timeout: 20_000 }).toBe(TRAINING_YAML);
    await f.core.idle();
    expect(f.appliedBy("rollback")).toEqual([["slack", OPERATOR, "alice"]]);
    // The private confirmation loses its buttons through its response_url; the outcome is told
    // in the channel, not in a thread of a message nobody else can see.
    const replaced = await fake.waitFor(
      () =>
        fake.responses.find(
          (r) => confirmed.delivery.responseUrl.endsWith(`/${r.id}`) && r.body.replace_original,
        ),
      20_000,
      "the confirmation replaced",
    );
    expect(text(replaced.body.blocks)).not.toContain('"actions"');
    const outcome = await fake.waitFor(
      () => fake.messages.slice(before).find((m) => /Roll/i.test(text(m.blocks))),
      20_000,
      "the outcome in the channel",
    );
    expect(outcome.threadTs).toBeUndefined();

    const audited = f.audit.list().length;
    const again = await press(verdict, "Roll back");
    expect(again.answer?.response_type).toBe("ephemeral");
    expect(text(again.answer?.blocks)).toContain("This verdict is out of date");
    expect(f.audit.list()).toHaveLength(audited);
  }, 60_000);

  it("Next phase on a passed phase applies phase 2 once confirmed; later the same button says the plan moved on", async () => {
    const start = await f.startPhase1();
    await f.passPhase1(start);
    await f.deliver();
    const verdict = posted(/Phase 1 passed/);
    expect(buttonsOf(verdict).map((e) => e.text.text)).toEqual(["Next phase", "Logs", "Status"]);

    const asked = await press(verdict, "Next phase");
    expect(text(asked.answer?.blocks)).toContain("Confirm: Phase 2");
    await press(
      {
        ts: "1767225999.000200",
        channel: ALERT_CHANNEL,
        blocks: asked.answer?.blocks as unknown[],
      },
      "Confirm",
      OPERATOR,
      { ephemeral: true, answered: false },
    );
    await expect.poll(yaml, { timeout: 20_000 }).toContain("train_batch_size: 2 ");
    await f.core.idle();
    expect(f.appliedBy("next-phase").filter(([platform]) => platform === "slack")).toEqual([
      ["slack", OPERATOR, "alice"],
    ]);

    const stale = await press(verdict, "Next phase");
    expect(stale.answer?.response_type).toBe("ephemeral");
    expect(text(stale.answer?.blocks)).toContain("This verdict is out of date");
    expect(text(stale.answer?.blocks)).toContain("Now: Phase 2");
  }, 60_000);

  it("an alert's Mute 1 h says until when, Mute 8 h then mutes for longer; Logs and Status answer privately; once resolved, Mute says so", async () => {
    const start = await f.startPhase1();
    const at = await f.failPhase1(start);
    await f.deliver();
    const alert = posted(/CUDA out of memory/);

    const muted = await press(alert, "Mute 1 h");
    expect(muted.answer?.response_type).toBe("ephemeral");
    const silences = f.activeMutes();
    expect(silences.map((s) => [s.rule, s.createdBy, s.endsAt - s.createdAt])).toEqual([
      ["cuda_oom", "alice", 3_600_000],
    ]);
    expect(text(muted.answer?.blocks)).toContain("Muted CUDA OOM alerts of exp for 1 h");
    expect(text(muted.answer?.blocks)).toContain(`Until ${formatDateTime(silences[0]!.endsAt)}.`);
    // Still firing under that mute: Mute 8 h mutes it for longer, it is not "resolved".
    const longer = await press(alert, "Mute 8 h");
    expect(text(longer.answer?.blocks)).toContain("Muted CUDA OOM alerts of exp for 8 h");
    expect(Math.max(...f.activeMutes().map((s) => s.endsAt - s.createdAt))).toBe(8 * 3_600_000);

    const logs = await press(alert, "Logs", VISITOR);
    expect(logs.answer?.response_type).toBe("ephemeral");
    expect(text(logs.answer?.blocks)).toContain("Train step");
    const status = await press(alert, "Status", VISITOR);
    expect(status.answer?.response_type).toBe("ephemeral");
    expect(text(status.answer?.blocks)).toMatch(/exp: step \d/);

    expect(f.recover(at)).not.toContain("cuda_oom");
    const stale = await press(alert, "Mute 8 h");
    expect(text(stale.answer?.blocks)).toContain("Alert already resolved");
    expect(f.activeMutes()).toEqual([]);
    // The alert keeps its buttons for the next person.
    expect(buttonsOf(posted(/CUDA out of memory/))).toHaveLength(6);
  }, 60_000);
});
