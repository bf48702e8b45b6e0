import { REST } from "discord.js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Message } from "../../../src/message/message.ts";
import { DiscordAlertSink } from "../../../src/platforms/discord/discord-alert-sink.ts";
import { type Harness, startHarness } from "./discord-setup.ts";
import { TestCore, TINY_PNG } from "./test-core.ts";

const ROLE = "567890123456789012";
const USER = "456000000000000009";

let h: Harness;

beforeAll(async () => {
  h = await startHarness(new TestCore(), { frontEnd: { maxRateLimitWaitMs: 2000 } });
});
afterAll(async () => {
  await h.close();
});

let serial = 0;
function alert(extra: Partial<Message> = {}): { message: Message; key: string } {
  serial += 1;
  return {
    key: `alert-${serial}-${Date.now()}`,
    message: {
      title: `CUDA OOM on exp001 (#${serial})`,
      severity: "critical",
      lines: [
        "Step 612: CUDA out of memory (tried to allocate 2.1 GiB).",
        "Next: roll back to the last passed phase.",
      ],
      mentions: { users: [USER], roles: [ROLE] },
      ...extra,
    },
  };
}

const posted = (h: Harness, title: string) =>
  h.fake.channelMessages.filter((m) => (m.embeds as { title?: string }[])[0]?.title === title);
const attempts = (h: Harness, title: string) =>
  h.fake.received.filter(
    (r) =>
      r.method === "POST" &&
      r.path === `/channels/${h.fake.channelIds[1]}/messages` &&
      (r.body?.embeds as { title?: string }[] | undefined)?.[0]?.title === title,
  );

describe("alert sink", () => {
  test("posts to the alert channel pinging exactly the configured role and user", async () => {
    const { message, key } = alert({
      images: [{ name: "oom.png", png: TINY_PNG, alt: "VRAM before the OOM" }],
      // Text that would ping everyone if mentions were parsed from content.
      code: "@everyone look <@&999999999999999999>",
    });
    const result = await h.bot.sink.deliver(message, key);
    expect(result).toEqual({ ok: true });
    expect(h.bot.sink.name).toBe("discord-bot");
    const [request] = attempts(h, message.title);
    expect(request?.body?.allowed_mentions).toEqual({ parse: [], users: [USER], roles: [ROLE] });
    expect(request?.body?.content).toBe(`<@&${ROLE}> <@${USER}> **${message.title}**`);
    expect(request?.body?.enforce_nonce).toBe(true);
    expect(String(request?.body?.nonce).length).toBeLessThanOrEqual(25);
    expect(request?.contentType).toBe("multipart/form-data");
    expect(request?.files.map((f) => [f.field, f.filename, f.contentType])).toEqual([
      ["files[0]", "oom.png", "image/png"],
    ]);
    const [stored] = posted(h, message.title);
    expect(stored?.attachments[0]).toMatchObject({
      filename: "oom.png",
      description: "VRAM before the OOM",
    });
    expect((stored?.embeds as { color: number }[] | undefined)?.[0]?.color).toBe(0xef4444);
  });

  test("a 429 with retry_after is waited out by discord.js: delivered once", async () => {
    const { message, key } = alert();
    h.fake.failNext(1, { retryAfter: 0.3 }, /^POST \/channels\//);
    const result = await h.bot.sink.deliver(message, key);
    expect(result).toEqual({ ok: true });
    expect(attempts(h, message.title).map((r) => r.status)).toEqual([429, 200]);
    expect(posted(h, message.title)).toHaveLength(1);
  });

  test("5xx: short bursts are retried inside, long outages are retryable, and the alert lands once", async () => {
    const { message, key } = alert();
    h.fake.failNext(2, 502, /^POST \/channels\//);
    expect(await h.bot.sink.deliver(message, key)).toEqual({ ok: true });
    expect(posted(h, message.title)).toHaveLength(1);

    const second = alert();
    h.fake.failNext(3, 503, /^POST \/channels\//);
    const failed = await h.bot.sink.deliver(second.message, second.key);
    expect(failed).toMatchObject({ ok: false, retryable: true });
    // The outbox retries later with the same key.
    expect(await h.bot.sink.deliver(second.message, second.key)).toEqual({ ok: true });
    expect(posted(h, second.message.title)).toHaveLength(1);
  });

  test("a reply lost after Discord created the message does not duplicate it (nonce)", async () => {
    const { message, key } = alert();
    h.fake.failNext(1, { status: 500, afterProcessing: true }, /^POST \/channels\//);
    expect(await h.bot.sink.deliver(message, key)).toEqual({ ok: true });
    expect(attempts(h, message.title).map((r) => r.status)).toEqual([500, 200]);
    expect(posted(h, message.title)).toHaveLength(1);
  });

  test("a 403 is not retried and says what to fix", async () => {
    const { message, key } = alert();
    h.fake.failNext(1, 403, /^POST \/channels\//);
    const result = await h.bot.sink.deliver(message, key);
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(result.ok === false && result.error).toContain(`channel ${h.fake.channelIds[1]}`);
    expect(result.ok === false && result.error).toContain("Send Messages");
  });

  test("alerts keep arriving once while the gateway drops and resumes", async () => {
    const before = h.fake.gatewayStats.resumes;
    h.fake.dropGateway();
    const during = alert();
    expect(await h.bot.sink.deliver(during.message, during.key)).toEqual({ ok: true });
    // An interaction sent while the client is away is replayed on RESUME and answered once.
    const interaction = h.fake.slashCommand({
      user: { id: "456000000000000001", username: "ana", roles: [] },
      subcommand: "status",
    });
    await h.fake.waitFor((r) => r.path.startsWith(`/interactions/${interaction.id}/`));
    expect(h.fake.gatewayStats.resumes).toBe(before + 1);
    expect(h.fake.gatewayStats.identifies).toBe(1);
    const after = alert();
    expect(await h.bot.sink.deliver(after.message, after.key)).toEqual({ ok: true });
    expect(posted(h, during.message.title)).toHaveLength(1);
    expect(posted(h, after.message.title)).toHaveLength(1);
    expect(
      h.fake.requestsFor(interaction).filter((r) => r.path.endsWith("/callback")),
    ).toHaveLength(1);
  });
});

describe("alert sink under a long rate limit", () => {
  // A separate bot: discord.js may remember the limited bucket, as it should, and hold back
  // later posts to the channel until the reset.
  test("a rate limit longer than the wait bound is handed back to the outbox with its delay", async () => {
    const own = await startHarness(new TestCore(), { frontEnd: { maxRateLimitWaitMs: 2000 } });
    try {
      const { message, key } = alert();
      own.fake.failNext(1, { retryAfter: 30 }, /^POST \/channels\//);
      const result = await own.bot.sink.deliver(message, key);
      expect(result).toMatchObject({ ok: false, retryable: true });
      expect(result.ok === false && result.retryable && result.retryAfterMs).toBeGreaterThanOrEqual(
        30_000,
      );
      expect(posted(own, message.title)).toHaveLength(0);
    } finally {
      await own.close();
    }
  });
});

test("Discord unreachable: retryable, saying so", async () => {
  // A port nothing listens on.
  const rest = new REST({ api: "http://127.0.0.1:9/api", retries: 0, timeout: 2000 }).setToken("t");
  const sink = new DiscordAlertSink({ rest, channelId: "345678901234567891" });
  const result = await sink.deliver({ title: "x", severity: "info" }, "k");
  expect(result).toMatchObject({ ok: false, retryable: true });
  expect(result.ok === false && result.error).toMatch(/^could not reach Discord/);
});

test("no alert channel configured: not retryable, naming the key", async () => {
  const sink = new DiscordAlertSink({ rest: new REST(), channelId: undefined });
  const result = await sink.deliver({ title: "x", severity: "info" }, "k");
  expect(result).toMatchObject({ ok: false, retryable: false });
  expect(result.ok === false && result.error).toMatch(/^discord.alertChannel is not set/);
});
