import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { ReceivedRequest, StoredMessage } from "../../harness/fake-discord/fake-discord.ts";
import { type Harness, startHarness } from "./discord-setup.ts";
import { OPERATOR_ROLE, TestCore } from "./test-core.ts";

const operator = { id: "456000000000000001", username: "ana", roles: [OPERATOR_ROLE] };
const colleague = { id: "456000000000000002", username: "ben", roles: [OPERATOR_ROLE] };
const visitor = { id: "456000000000000003", username: "cem", roles: [] };

let h: Harness;
let core: TestCore;

beforeAll(async () => {
  core = new TestCore(600);
  h = await startHarness(core);
});
afterAll(async () => {
  await h.close();
});

const isCallback = (id: string) => (r: ReceivedRequest) =>
  r.method === "POST" && r.path.startsWith(`/interactions/${id}/`);

interface Embed {
  title?: string;
  description?: string;
  color?: number;
  fields?: { name: string; value: string; inline?: boolean }[];
  footer?: { text: string };
  image?: { url: string };
}

const dataOf = (r: ReceivedRequest) => (r.body?.data ?? {}) as Record<string, unknown>;
const embedsOf = (body: Record<string, unknown>) => (body.embeds ?? []) as Embed[];

describe("registration", () => {
  test("registers /train in the guild with typed options from the core's specs", () => {
    const [command] = h.fake.commands.get(h.fake.guildId) ?? [];
    expect(command?.name).toBe("train");
    const subs = command?.options as { name: string; options: Record<string, unknown>[] }[];
    expect(subs.map((s) => s.name)).toEqual(core.subcommands.map((s) => s.name));
    const set = subs.find((s) => s.name === "set")!;
    expect(set.options.find((o) => o.name === "workers")).toMatchObject({
      type: 4,
      min_value: 1,
      max_value: 64,
      required: false,
    });
    expect(set.options.find((o) => o.name === "run")).toMatchObject({
      type: 3,
      autocomplete: true,
    });
    // Discord wants required options first; the spec lists them after run and rule.
    const mute = subs.find((s) => s.name === "mute")!;
    expect(mute.options.map((o) => o.name)).toEqual(["duration", "reason", "run", "rule"]);
    const chart = subs.find((s) => s.name === "chart")!;
    expect(chart.options.find((o) => o.name === "metric")?.choices).toHaveLength(4);
    expect(h.fake.commands.has("global")).toBe(false);
  });
});

describe("slash commands", () => {
  test("/train status answers at once with an embed, progress bars and the chart attached", async () => {
    const interaction = h.fake.slashCommand({
      user: visitor,
      subcommand: "status",
      options: { run: "exp002" },
    });
    const callback = await h.fake.waitFor(isCallback(interaction.id));
    expect(callback.status).toBe(204);
    expect(callback.body?.type).toBe(4);
    expect(callback.contentType).toBe("multipart/form-data");
    const [embed] = embedsOf(dataOf(callback));
    expect(embed?.title).toBe("exp002: training, step 549/4000");
    expect(embed?.color).toBe(0x3b82f6);
    expect(embed?.description).toContain("**Epoch 1**\n`███░░░░░░░░░░░░░░░░░` 549/4000 (13.7%)");
    expect(embed?.fields).toEqual([
      { name: "VRAM", value: "77.4/80 GiB", inline: true },
      { name: "GPU util", value: "0 %", inline: true },
    ]);
    expect(embed?.footer?.text).toBe("run exp002");
    expect(embed?.image?.url).toBe("attachment://exp002-status.png");
    expect(callback.files).toHaveLength(1);
    expect(callback.files[0]?.filename).toBe("exp002-status.png");
    expect(callback.files[0]?.data.subarray(1, 4).toString()).toBe("PNG");
    expect(dataOf(callback).allowed_mentions).toEqual({ parse: [], users: [], roles: [] });
    expect(dataOf(callback).flags).toBeUndefined();
    expect(core.requests.at(-1)).toMatchObject({
      subcommand: "status",
      args: { run: "exp002" },
      invoker: {
        platform: "discord",
        userId: visitor.id,
        userName: "cem",
        roles: [],
        channelId: h.fake.channelIds[0],
      },
    });
  });

  test("integer and string options reach the core as named strings", async () => {
    const interaction = h.fake.slashCommand({
      user: operator,
      subcommand: "mute",
      options: { duration: "2h", reason: "known slow node", rule: "gpu_idle" },
    });
    const callback = await h.fake.waitFor(isCallback(interaction.id));
    expect(embedsOf(dataOf(callback))[0]?.title).toBe("Muted gpu_idle for 2h");
    expect(core.requests.at(-1)?.args).toEqual({
      duration: "2h",
      reason: "known slow node",
      rule: "gpu_idle",
    });
  });

  test("an unauthorised user gets a private refusal (flag 64)", async () => {
    const interaction = h.fake.slashCommand({
      user: visitor,
      subcommand: "set",
      options: { workers: 2 },
    });
    const callback = await h.fake.waitFor(isCallback(interaction.id));
    expect(callback.body?.type).toBe(4);
    expect(dataOf(callback).flags).toBe(64);
    expect(embedsOf(dataOf(callback))[0]?.description).toContain("needs the operator role");
    expect(dataOf(callback).components).toEqual([]);
  });

  test("a slow command is deferred and then completed by editing @original", async () => {
    const interaction = h.fake.slashCommand({ user: operator, subcommand: "restart" });
    const callback = await h.fake.waitFor(isCallback(interaction.id));
    expect(callback.body?.type).toBe(5);
    const edit = await h.fake.waitFor(
      (r) =>
        r.method === "PATCH" &&
        r.path === `/webhooks/${h.fake.applicationId}/${interaction.token}/messages/@original`,
    );
    expect(edit.rawPath).toContain("%40original");
    expect(edit.status).toBe(200);
    expect(embedsOf(edit.body ?? {})[0]?.title).toBe("Restarted exp001");
    // The core's progress report arrives as a follow-up after the first answer.
    const followUp = await h.fake.waitFor(
      (r) =>
        r.method === "POST" && r.path === `/webhooks/${h.fake.applicationId}/${interaction.token}`,
    );
    expect(followUp.status).toBe(200);
    expect(embedsOf(followUp.body ?? {})[0]?.title).toBe("Training resumed at step 550");
    expect(interaction.original?.flags).toBe(0);
  });

  test("autocomplete offers matching run names", async () => {
    const interaction = h.fake.slashCommand({
      user: visitor,
      subcommand: "status",
      options: { run: "exp" },
      focused: "run",
    });
    const callback = await h.fake.waitFor(isCallback(interaction.id));
    expect(callback.body).toEqual({
      type: 8,
      data: {
        choices: [
          { name: "exp001", value: "exp001" },
          { name: "exp002", value: "exp002" },
        ],
      },
    });
  });

  test("a long log tail keeps its newest lines within Discord's limits", async () => {
    const interaction = h.fake.slashCommand({
      user: visitor,
      subcommand: "logs",
      options: { lines: 3000 },
    });
    const callback = await h.fake.waitFor(isCallback(interaction.id));
    expect(callback.status).toBe(204);
    const description = embedsOf(dataOf(callback))[0]?.description ?? "";
    expect(description.length).toBeLessThanOrEqual(4096);
    expect(description).toMatch(/^```\n… \d+ earlier lines cut\n/);
    expect(description).toContain("step 3000 loss=0.2999 `\u200b`` done\n```");
  });

  test("two charts: the first in the embed, the second in its own embed, both attached", async () => {
    const interaction = h.fake.slashCommand({ user: visitor, subcommand: "chart" });
    const callback = await h.fake.waitFor(isCallback(interaction.id));
    const embeds = embedsOf(dataOf(callback));
    expect(embeds.map((e) => e.image?.url)).toEqual([
      "attachment://a.png",
      "attachment://b_chart.png",
    ]);
    expect(callback.files.map((f) => f.filename)).toEqual(["a.png", "b_chart.png"]);
    expect(dataOf(callback).attachments).toEqual([
      { id: "0", description: "first" },
      { id: "1", description: "second" },
    ]);
  });
});

describe("confirmation buttons", () => {
  async function confirmation(workers = 4): Promise<{ message: StoredMessage; confirmId: string }> {
    const interaction = h.fake.slashCommand({
      user: operator,
      subcommand: "set",
      options: { workers },
    });
    const callback = await h.fake.waitFor(isCallback(interaction.id));
    const rows = dataOf(callback).components as {
      components: { custom_id: string; label: string; style: number }[];
    }[];
    expect(rows[0]?.components.map((b) => [b.label, b.style])).toEqual([
      ["Confirm", 4],
      ["Cancel", 2],
    ]);
    return { message: interaction.original!, confirmId: rows[0]!.components[0]!.custom_id };
  }

  test("someone else's press is refused privately and leaves the message alone", async () => {
    const { message, confirmId } = await confirmation();
    const press = h.fake.pressButton({ user: colleague, customId: confirmId, message });
    const callback = await h.fake.waitFor(isCallback(press.id));
    expect(callback.body?.type).toBe(4);
    expect(dataOf(callback).flags).toBe(64);
    expect(embedsOf(dataOf(callback))[0]?.description).toContain(`<@${operator.id}>`);
    // The mention is rendered but nobody is pinged by it.
    expect(dataOf(callback).allowed_mentions).toEqual({ parse: [], users: [], roles: [] });
    expect(core.presses.at(-1)?.invoker.userId).toBe(colleague.id);
  });

  test("the requester's press replaces the confirmation and reports progress", async () => {
    const { message, confirmId } = await confirmation();
    const press = h.fake.pressButton({ user: operator, customId: confirmId, message });
    const callback = await h.fake.waitFor(isCallback(press.id));
    expect(callback.body?.type).toBe(7);
    expect(embedsOf(dataOf(callback))[0]?.title).toBe("Applied: workers 1 → 4");
    expect(dataOf(callback).components).toEqual([]);
    const followUp = await h.fake.waitFor(
      (r) => r.method === "POST" && r.path === `/webhooks/${h.fake.applicationId}/${press.token}`,
    );
    expect(embedsOf(followUp.body ?? {})[0]?.title).toBe("Restarted with 4 workers");
    // A second press applies nothing.
    const again = h.fake.pressButton({ user: operator, customId: confirmId, message });
    const second = await h.fake.waitFor(isCallback(again.id));
    expect(dataOf(second).flags).toBe(64);
    expect(embedsOf(dataOf(second))[0]?.title).toBe("Already applied");
  });

  test("a slow press is deferred (type 6) and the message then edited in place", async () => {
    const { message, confirmId } = await confirmation(32);
    const press = h.fake.pressButton({ user: operator, customId: confirmId, message });
    const callback = await h.fake.waitFor(isCallback(press.id));
    expect(callback.body?.type).toBe(6);
    const edit = await h.fake.waitFor(
      (r) =>
        r.method === "PATCH" &&
        r.path === `/webhooks/${h.fake.applicationId}/${press.token}/messages/@original`,
    );
    expect(edit.status).toBe(200);
    expect(embedsOf(edit.body ?? {})[0]?.title).toBe("Applied: workers 1 → 32");
    expect(edit.body?.components).toEqual([]);
    expect(press.original?.id).toBe(message.id);
  });
});
