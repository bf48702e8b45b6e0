import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatDateTime } from "../../../src/message/format.ts";
import type { ReceivedRequest, StoredMessage } from "../../harness/fake-discord/fake-discord.ts";
import { TRAINING_YAML } from "../../ops/ops-fixture.ts";
import {
  type ChatOpsFixture,
  createChatOpsFixture,
  FAILED_WITH_OOM_BUTTONS,
} from "../chat-ops-fixture.ts";
import { type Harness, startHarness } from "./discord-setup.ts";

// Buttons on what the product posts (alerts, verdicts), pressed through discord.js against the
// fake: the fake sends INTERACTION_CREATE on the gateway as Discord does, the bot answers
// through the interaction callback, and the run operations act on a real trainer and YAML.

const operator = { id: "111111", username: "alice", roles: [] };
const viewer = { id: "333333", username: "carol", roles: [] };

type Button = { custom_id: string; label: string };
type Data = {
  flags?: number;
  embeds: { title: string; description?: string; fields?: { name: string; value: string }[] }[];
  components: { components: Button[] }[];
};

let f: ChatOpsFixture;
let h: Harness;

beforeEach(async () => {
  f = createChatOpsFixture({ discord: { operators: { users: [operator.id], roles: [] } } });
  h = await startHarness(f.core, { frontEnd: { deferAfterMs: 2500 } });
  f.sinks.push(h.bot.sink);
});
afterEach(async () => {
  await h?.close();
  await f?.close();
});

const isCallback = (id: string) => (r: ReceivedRequest) =>
  r.method === "POST" && r.path.startsWith(`/interactions/${id}/`);
const dataOf = (r: ReceivedRequest) => r.body?.data as Data;
const textOf = (d: Data) => JSON.stringify(d.embeds);
const yaml = () => readFileSync(join(f.ops.dir, "exp.yaml"), "utf8");

/**
 * The message the product posted to the alert channel that tells `what` (on its own or within
 * a group: what is queued together goes as one message).
 */
function posted(what: RegExp): StoredMessage {
  const message = h.fake.channelMessages.find((m) => what.test(JSON.stringify(m.embeds)));
  if (!message) throw new Error(`nothing saying ${what} was posted`);
  return message;
}
const buttonsOf = (m: StoredMessage) =>
  (m.components as Data["components"]).flatMap((row) => row.components);

/** Presses the button labelled `label` on `message` as `user`; resolves with the answer. */
async function press(message: StoredMessage, label: string, user = operator) {
  const button = buttonsOf(message).find((b) => b.label === label);
  if (!button) throw new Error(`no '${label}' on the message`);
  const interaction = h.fake.pressButton({ user, customId: button.custom_id, message });
  const callback = await h.fake.waitFor(isCallback(interaction.id));
  return { interaction, callback, data: dataOf(callback) };
}

/** The last time a request reached the fake's interaction webhook for `token`. */
async function edited(token: string): Promise<ReceivedRequest> {
  return h.fake.waitFor(
    (r) => r.method === "PATCH" && r.path.startsWith(`/webhooks/${h.fake.applicationId}/${token}/`),
    20_000,
  );
}

describe("buttons on a failed phase's verdict, pressed through discord.js", () => {
  it("Roll back: a viewer is refused; the operator confirms and the YAML is restored, audited as theirs; pressed again it is out of date", async () => {
    const start = await f.startPhase1();
    expect(yaml()).toContain("workers: 2 ");
    await f.failPhase1(start);
    await f.deliver();
    // The verdict and the OOM alert were queued together, so they go as one message with the
    // buttons of both.
    const verdict = posted(/Phase 1 failed/);
    expect(buttonsOf(verdict).map((b) => b.label)).toEqual([...FAILED_WITH_OOM_BUTTONS]);

    const refused = await press(verdict, "Roll back", viewer);
    expect(refused.data.flags).toBe(64);
    expect(refused.data.embeds[0]?.title).toBe("Not allowed");
    expect(f.audit.list({ outcomes: ["refused"] }).map((e) => [e.command, e.userId])).toEqual([
      ["rollback", viewer.id],
    ]);

    const asked = await press(verdict, "Roll back");
    // The confirmation goes to the presser alone; the verdict keeps its buttons for the channel.
    expect(asked.data.flags).toBe(64);
    expect(asked.data.embeds[0]?.title).toMatch(/^Confirm: /);
    expect(textOf(asked.data)).toContain("workers");
    const confirmation = asked.interaction.original;
    if (!confirmation) throw new Error("no confirmation message");
    expect(buttonsOf(confirmation).map((b) => b.label)).toEqual(["Confirm", "Cancel"]);
    expect(yaml()).toContain("workers: 2 ");

    const confirmed = await press(confirmation, "Confirm");
    // A rollback restarts training: longer than the ack deadline, so deferred, then edited.
    expect([6, 7]).toContain(confirmed.callback.body?.type);
    await expect.poll(yaml, { timeout: 20_000 }).toBe(TRAINING_YAML);
    await f.core.idle();
    expect(f.appliedBy("rollback")).toEqual([["discord", operator.id, operator.username]]);
    // The confirmation loses its buttons: at once (type 7) or by the edit after a deferral.
    const final =
      confirmed.callback.body?.type === 7
        ? confirmed.callback.body?.data
        : (await edited(confirmed.interaction.token)).body;
    expect((final as { components?: unknown[] } | undefined)?.components).toEqual([]);

    const audited = f.audit.list().length;
    const again = await press(verdict, "Roll back");
    expect(again.data.flags).toBe(64);
    expect(again.data.embeds[0]?.title).toBe("This verdict is out of date");
    expect(textOf(again.data)).toContain("Phase 1 failed then");
    expect(f.audit.list()).toHaveLength(audited);
    expect(yaml()).toBe(TRAINING_YAML);
  }, 60_000);
});

describe("buttons on a passed phase's verdict, pressed through discord.js", () => {
  it("Next phase applies phase 2 once confirmed; the same button later says the plan moved on", async () => {
    const start = await f.startPhase1();
    await f.passPhase1(start);
    await f.deliver();
    const verdict = posted(/Phase 1 passed/);
    expect(buttonsOf(verdict).map((b) => b.label)).toEqual(["Next phase", "Logs", "Status"]);

    const asked = await press(verdict, "Next phase");
    expect(asked.data.flags).toBe(64);
    expect(asked.data.embeds[0]?.title).toMatch(/^Confirm: Phase 2/);
    const confirmation = asked.interaction.original;
    if (!confirmation) throw new Error("no confirmation message");
    await press(confirmation, "Confirm");
    await expect.poll(yaml, { timeout: 20_000 }).toContain("train_batch_size: 2 ");
    await f.core.idle();
    expect(f.appliedBy("next-phase").filter(([platform]) => platform === "discord")).toEqual([
      ["discord", operator.id, operator.username],
    ]);

    const stale = await press(verdict, "Next phase");
    expect(stale.data.flags).toBe(64);
    expect(stale.data.embeds[0]?.title).toBe("This verdict is out of date");
    expect(textOf(stale.data)).toContain("Now: Phase 2");
  }, 60_000);
});

describe("buttons on an alert, pressed through discord.js", () => {
  it("Mute 1 h says until when, Mute 8 h then mutes for longer; Logs and Status answer privately; once resolved, Mute says so", async () => {
    const start = await f.startPhase1();
    const at = await f.failPhase1(start);
    await f.deliver();
    const alert = posted(/CUDA out of memory/);
    expect(buttonsOf(alert).map((b) => b.label)).toEqual([...FAILED_WITH_OOM_BUTTONS]);

    const muted = await press(alert, "Mute 1 h");
    expect(muted.data.flags).toBe(64);
    expect(muted.data.embeds[0]?.title).toBe("Muted CUDA OOM alerts of exp for 1 h");
    const silences = f.activeMutes();
    expect(silences.map((s) => [s.rule, s.createdBy])).toEqual([["cuda_oom", "alice"]]);
    expect(silences[0]!.endsAt - silences[0]!.createdAt).toBe(3_600_000);
    expect(textOf(muted.data)).toContain(`Until ${formatDateTime(silences[0]!.endsAt)}.`);
    // Still firing under that mute: Mute 8 h mutes it for longer, it is not "resolved".
    const longer = await press(alert, "Mute 8 h");
    expect(longer.data.embeds[0]?.title).toBe("Muted CUDA OOM alerts of exp for 8 h");
    expect(Math.max(...f.activeMutes().map((s) => s.endsAt - s.createdAt))).toBe(8 * 3_600_000);

    const logs = await press(alert, "Logs", viewer);
    expect(logs.data.flags).toBe(64);
    expect(textOf(logs.data)).toContain("Train step");
    const status = await press(alert, "Status", viewer);
    expect(status.data.flags).toBe(64);
    expect(status.data.embeds[0]?.title).toMatch(/^exp: step \d/);

    expect(f.recover(at)).not.toContain("cuda_oom");
    const stale = await press(alert, "Mute 8 h");
    expect(stale.data.flags).toBe(64);
    expect(stale.data.embeds[0]?.title).toBe("Alert already resolved");
    expect(f.activeMutes()).toEqual([]);
  }, 60_000);
});
