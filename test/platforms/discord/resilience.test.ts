import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ManualClock } from "../../../src/core/clock.ts";
import { DiscordSetupError } from "../../../src/platforms/discord/discord-errors.ts";
import { createDiscordFrontEnd } from "../../../src/platforms/discord/discord-front-end.ts";
import { FakeDiscord, interactionCallback } from "../../harness/fake-discord/fake-discord.ts";
import { slashCommandInteraction } from "../../harness/fake-discord/interactions.ts";
import { configFor, type Harness, MemoryLog, startHarness } from "./discord-setup.ts";
import { OPERATOR_ROLE, TestCore } from "./test-core.ts";

const operator = { id: "456000000000000001", username: "ana", roles: [OPERATOR_ROLE] };

describe("malformed gateway events and failing commands", () => {
  let h: Harness;
  const clock = new ManualClock(Date.now());
  beforeAll(async () => {
    h = await startHarness(new TestCore(300), { frontEnd: { clock } });
  });
  afterAll(async () => {
    await h.close();
  });

  test("an interaction without entitlements or authorizing_integration_owners is still answered", async () => {
    const payload = slashCommandInteraction(
      {
        applicationId: h.fake.applicationId,
        guildId: h.fake.guildId,
        channelId: h.fake.channelIds[0]!,
      },
      { user: operator, subcommand: "help" },
    );
    delete payload.entitlements;
    delete payload.authorizing_integration_owners;
    const interaction = h.fake.sendInteraction(payload);
    const callback = await h.fake.waitFor(interactionCallback(interaction.id));
    expect(callback.status).toBe(204);
    const data = callback.body?.data as { embeds: { description: string }[] } | undefined;
    const description = data?.embeds[0]?.description;
    expect(description).toMatch(/^```\ncommand\s+what\n-+\s+-+\nstatus\s+Progress/);
  });

  test("events discord.js cannot parse are dropped and logged; the bot keeps answering", async () => {
    const place = {
      applicationId: h.fake.applicationId,
      guildId: h.fake.guildId,
      channelId: h.fake.channelIds[0]!,
    };
    const noUser = slashCommandInteraction(place, { user: operator, subcommand: "status" });
    delete noUser.member;
    h.fake.sendInteraction(noUser);
    h.fake.dispatch("INTERACTION_CREATE", null);
    h.fake.dispatch("INTERACTION_CREATE", { id: "1", type: 2, data: null, entitlements: "no" });
    h.fake.sendInteraction({
      ...slashCommandInteraction(place, { user: operator, subcommand: "status" }),
      type: 99,
    });
    h.fake.dispatch("GUILD_CREATE", { id: null });
    const healthy = h.fake.slashCommand({ user: operator, subcommand: "status" });
    const callback = await h.fake.waitFor(interactionCallback(healthy.id));
    expect(callback.status).toBe(204);
    const dropped = h.log.lines.filter((l) => l.message.includes("dropped a gateway event"));
    expect(dropped.length).toBeGreaterThanOrEqual(2);
    // Nothing answered the broken ones.
    expect(h.fake.received.filter((r) => r.path.endsWith("/callback")).length).toBe(2);
  });

  test("a reply Discord refuses (400) becomes a private note, not silence", async () => {
    h.fake.failNext(1, 400, /^POST \/interactions\//);
    const interaction = h.fake.slashCommand({ user: operator, subcommand: "status" });
    await expect
      .poll(() => h.fake.requestsFor(interaction).map((r) => r.status))
      .toEqual([400, 204]);
    const [, note] = h.fake.requestsFor(interaction);
    const data = note?.body?.data as { flags: number; content: string };
    expect(data.flags).toBe(64);
    expect(data.content).toMatch(/^The answer could not be shown on Discord/);
  });

  test("a command that throws gets a private error reply", async () => {
    const interaction = h.fake.slashCommand({
      user: operator,
      subcommand: "status",
      options: { run: "explode" },
    });
    const callback = await h.fake.waitFor(interactionCallback(interaction.id));
    const data = callback.body?.data as {
      flags: number;
      embeds: { title: string; description: string }[];
    };
    expect(data.flags).toBe(64);
    expect(data.embeds[0]?.title).toBe("/train status failed");
    expect(data.embeds[0]?.description).toContain("store is locked");
  });

  test("a slow private answer replaces the public placeholder with a private follow-up", async () => {
    const interaction = h.fake.slashCommand({
      user: operator,
      subcommand: "restart",
      options: { run: "missing" },
    });
    expect((await h.fake.waitFor(interactionCallback(interaction.id))).body?.type).toBe(5);
    const followUp = await h.fake.waitFor(
      (r) =>
        r.method === "POST" && r.path === `/webhooks/${h.fake.applicationId}/${interaction.token}`,
    );
    expect((followUp.body as { flags: number }).flags).toBe(64);
    const deleted = h.fake.requestsFor(interaction).find((r) => r.method === "DELETE");
    expect(deleted?.path).toBe(
      `/webhooks/${h.fake.applicationId}/${interaction.token}/messages/@original`,
    );
  });

  test("progress after the interaction token expired goes to the channel", async () => {
    clock.set(Date.now() + 20 * 60_000);
    try {
      const interaction = h.fake.slashCommand({ user: operator, subcommand: "restart" });
      const progress = await h.fake.waitFor(
        (r) =>
          r.method === "POST" &&
          r.path === `/channels/${h.fake.channelIds[0]}/messages` &&
          (r.body?.embeds as { title: string }[] | undefined)?.[0]?.title ===
            "Training resumed at step 550",
      );
      expect(progress.status).toBe(200);
      expect(
        h.fake
          .requestsFor(interaction)
          .filter((r) => r.method === "POST" && r.path.startsWith("/webhooks")),
      ).toEqual([]);
    } finally {
      clock.set(Date.now());
    }
  });
});

describe("starting", () => {
  test("a token Discord rejects fails at start naming DISCORD_TOKEN", async () => {
    const fake = await FakeDiscord.start();
    try {
      const bot = createDiscordFrontEnd({
        config: configFor(fake, { token: "wrong-token" }),
        core: new TestCore(),
      });
      const failure = await bot.start().catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(DiscordSetupError);
      expect((failure as Error).message).toMatch(/401.*DISCORD_TOKEN/);
      expect((failure as Error).message).not.toContain("wrong-token");
      await bot.stop();
    } finally {
      await fake.close();
    }
  });

  test("an empty token fails before connecting", async () => {
    const bot = createDiscordFrontEnd({
      config: { operators: { users: [], roles: [] }, apiUrl: "http://127.0.0.1:9/api", token: "" },
      core: new TestCore(),
    });
    await expect(bot.start()).rejects.toThrow(/discord.token is empty: set DISCORD_TOKEN/);
  });

  test("without guildId /train is registered globally; register() re-registers on demand", async () => {
    const log = new MemoryLog();
    const fake = await FakeDiscord.start();
    const bot = createDiscordFrontEnd({
      config: configFor(fake, { guildId: undefined }),
      core: new TestCore(),
      log,
    });
    try {
      await bot.start();
      expect(fake.commands.get("global")?.[0]?.name).toBe("train");
      const result = await bot.register();
      expect(result).toMatchObject({ scope: "global", subcommands: 7 });
      expect(result.inviteUrl).toBe(
        `https://discord.com/oauth2/authorize?client_id=${fake.applicationId}&scope=bot+applications.commands&permissions=52224`,
      );
      expect(fake.received.filter((r) => r.method === "PUT")).toHaveLength(2);
    } finally {
      await bot.stop();
      await fake.close();
    }
  });

  test("an alert channel the bot cannot see is reported at start", async () => {
    const log = new MemoryLog();
    const fake = await FakeDiscord.start();
    const bot = createDiscordFrontEnd({
      config: configFor(fake, { alertChannel: "999999999999999999" }),
      core: new TestCore(),
      log,
    });
    try {
      await bot.start();
      expect(
        log.lines.some(
          (l) =>
            l.level === "error" &&
            l.message.includes("cannot see alert channel 999999999999999999"),
        ),
      ).toBe(true);
    } finally {
      await bot.stop();
      await fake.close();
    }
  });
});

describe("Discord's window for the first response (shortened to 800 ms here)", () => {
  // In time: deferral (5) accepted, the answer edited in, the progress follow-up posted.
  for (const [deferAfterMs, expected] of [
    [100, [204, 200, 200]],
    [1500, [404]],
  ] as const) {
    test(`deferring after ${deferAfterMs} ms → first callback ${expected[0]}`, async () => {
      const h = await startHarness(new TestCore(1800), {
        fake: { ackDeadlineMs: 800 },
        frontEnd: { deferAfterMs },
      });
      try {
        const interaction = h.fake.slashCommand({ user: operator, subcommand: "restart" });
        await expect
          .poll(() => h.fake.requestsFor(interaction).map((r) => r.status), { timeout: 5000 })
          .toEqual(expected);
        if (expected[0] === 404) {
          // Too late: Discord forgot the interaction; the bot logs it and carries on.
          await expect
            .poll(() =>
              h.log.lines.some((l) => l.message.includes("handling an interaction failed")),
            )
            .toBe(true);
        }
      } finally {
        await h.close();
      }
    });
  }
});
