import { readFileSync } from "node:fs";
import { afterAll, beforeAll, expect, test } from "vitest";
import { type BotFixture, createBotFixture, oomAlert, planSample } from "../../bot/bot-fixture.ts";
import {
  interactionCallback,
  type ReceivedRequest,
} from "../../harness/fake-discord/fake-discord.ts";
import { type Harness, startHarness } from "./discord-setup.ts";

// The fixture's config: operators are user 111111 and role 777; commands run in channel 900.
const operator = { id: "111111", username: "alice", roles: [] };
const roleOperator = { id: "222222", username: "bob", roles: ["777"] };
const viewer = { id: "333333", username: "carol", roles: [] };

let f: BotFixture;
let h: Harness;

beforeAll(async () => {
  f = createBotFixture();
  const now = f.clock.now();
  for (let i = 60; i >= 0; i--) f.samples.insert(planSample("exp001", now - i * 60_000));
  h = await startHarness(f.core, {
    fake: { channelIds: ["900", "345678901234567891"], roleIds: ["777"] },
    frontEnd: { deferAfterMs: 2000 },
  });
});
afterAll(async () => {
  await h?.close();
  f?.close();
});

type Data = {
  flags?: number;
  embeds: { title: string; description?: string; image?: { url: string } }[];
  components: { components: { custom_id: string; label: string }[] }[];
};
const dataOf = (r: ReceivedRequest) => r.body?.data as Data;

test("the real command layer over a real store: status, refusal, confirmation by the requester only", async () => {
  // Registration used the core's own specs, and Discord's rules accepted them.
  const registered = h.fake.commands.get(h.fake.guildId)?.[0]?.options as { name: string }[];
  expect(registered.map((o) => o.name)).toEqual(f.core.subcommands.map((s) => s.name));

  const status = h.fake.slashCommand({
    user: viewer,
    subcommand: "status",
    options: { run: "exp001" },
  });
  const statusReply = await h.fake.waitFor(interactionCallback(status.id));
  expect(statusReply.status).toBe(204);
  expect(dataOf(statusReply).embeds[0]?.title).toContain("exp001");
  expect(statusReply.files[0]?.data.subarray(1, 4).toString()).toBe("PNG");
  expect(dataOf(statusReply).embeds[0]?.image?.url).toBe(
    `attachment://${statusReply.files[0]?.filename}`,
  );

  const refused = h.fake.slashCommand({
    user: viewer,
    subcommand: "set",
    options: { run: "exp001", workers: 2 },
  });
  const refusal = await h.fake.waitFor(interactionCallback(refused.id));
  expect(dataOf(refusal).flags).toBe(64);
  expect(JSON.stringify(dataOf(refusal).embeds)).toContain("discord.operators");

  const set = h.fake.slashCommand({
    user: roleOperator,
    subcommand: "set",
    options: { run: "exp001", workers: 2 },
  });
  const confirmation = await h.fake.waitFor(interactionCallback(set.id));
  const buttons = dataOf(confirmation).components[0]?.components ?? [];
  expect(buttons.map((b) => b.label)).toEqual(["Confirm", "Cancel"]);
  const confirm = buttons[0]!.custom_id;

  const stranger = h.fake.pressButton({
    user: operator,
    customId: confirm,
    message: set.original!,
  });
  expect(dataOf(await h.fake.waitFor(interactionCallback(stranger.id))).flags).toBe(64);
  expect(readFileSync(f.ops.file, "utf8")).toContain("workers: 1");

  const press = h.fake.pressButton({
    user: roleOperator,
    customId: confirm,
    message: set.original!,
  });
  const applied = await h.fake.waitFor(interactionCallback(press.id));
  expect([6, 7]).toContain(applied.body?.type);
  await expect.poll(() => readFileSync(f.ops.file, "utf8")).toContain("workers: 2");
  expect(f.ops.applied).toHaveLength(1);
  expect(f.ops.applied[0]?.actor).toMatchObject({
    platform: "discord",
    userId: "222222",
    name: "bob",
  });
});

test("an alert's buttons pressed through discord.js: Mute by an operator, privately; a stale Mute says so", async () => {
  f.alerts.firing = [
    { rule: "cuda_oom", severity: "critical", summary: "CUDA OOM", since: f.clock.now() },
  ];
  const alert = oomAlert("exp001", f.clock.now());
  expect(await h.bot.sink.deliver(alert, `buttons-${Date.now()}`)).toEqual({ ok: true });
  const posted = h.fake.channelMessages.find(
    (m) => (m.embeds as { title?: string }[])[0]?.title === alert.title,
  );
  if (!posted) throw new Error("the alert did not reach the channel");
  const rows = posted.components as Data["components"];
  const buttons = rows.flatMap((r) => r.components);
  expect(buttons.map((b) => b.label)).toEqual(["Mute 1 h", "Mute 8 h", "Logs", "Status"]);
  const mute = buttons[0]!.custom_id;

  const byViewer = h.fake.pressButton({ user: viewer, customId: mute, message: posted });
  const refusal = dataOf(await h.fake.waitFor(interactionCallback(byViewer.id)));
  expect(refusal.flags).toBe(64);
  expect(refusal.embeds[0]?.title).toBe("Not allowed");

  const byOperator = h.fake.pressButton({ user: operator, customId: mute, message: posted });
  const muted = dataOf(await h.fake.waitFor(interactionCallback(byOperator.id)));
  expect(muted.flags).toBe(64);
  expect(muted.embeds[0]?.title).toBe("Muted CUDA OOM alerts of exp001 for 1 h");
  expect(f.alerts.silences.map((s) => s.rule)).toEqual(["cuda_oom"]);

  f.alerts.firing = [];
  const stale = h.fake.pressButton({
    user: operator,
    customId: buttons[1]!.custom_id,
    message: posted,
  });
  const answer = dataOf(await h.fake.waitFor(interactionCallback(stale.id)));
  expect(answer.flags).toBe(64);
  expect(answer.embeds[0]?.title).toBe("Alert already resolved");
  expect(f.alerts.silences).toHaveLength(1);

  const status = h.fake.pressButton({
    user: viewer,
    customId: buttons[3]!.custom_id,
    message: posted,
  });
  const statusAnswer = dataOf(await h.fake.waitFor(interactionCallback(status.id)));
  expect(statusAnswer.flags).toBe(64);
  expect(statusAnswer.embeds[0]?.title).toContain("exp001: step");
});

test("/train plan through discord.js: the results table and the phase comparison chart attached", async () => {
  const plan = h.fake.slashCommand({
    user: viewer,
    subcommand: "plan",
    options: { run: "exp001" },
  });
  const reply = await h.fake.waitFor(interactionCallback(plan.id));
  expect(dataOf(reply).embeds[0]?.title).toBe("exp001: safe-optimization");
  expect(reply.files.map((file) => file.filename)).toEqual(["exp001-plan.png"]);
  expect(reply.files[0]?.data.subarray(1, 4).toString()).toBe("PNG");
  expect(dataOf(reply).embeds[0]?.image?.url).toBe("attachment://exp001-plan.png");
});
