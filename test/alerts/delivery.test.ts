import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createAlerting } from "../../src/alerts/create-alerting.ts";
import { ConsoleSink } from "../../src/alerts/sinks/console-sink.ts";
import { systemClock } from "../../src/core/clock.ts";
import type { Message } from "../../src/message/message.ts";
import {
  DiscordWebhookSink,
  discordPayload,
} from "../../src/platforms/discord/discord-webhook-sink.ts";
import { renderMessage as renderDiscord } from "../../src/platforms/discord/render-message.ts";
import { renderMessage as renderSlack } from "../../src/platforms/slack/block-kit.ts";
import { SlackWebhookSink, slackPayload } from "../../src/platforms/slack/slack-webhook-sink.ts";
import { createConfiguredSinks } from "../../src/runtime/create-sinks.ts";
import { AlertOutboxRepo } from "../../src/store/alert-outbox-repo.ts";
import { openDatabase } from "../../src/store/database.ts";
import { EventsRepo } from "../../src/store/events-repo.ts";
import { SamplesRepo } from "../../src/store/samples-repo.ts";
import { MIN, raiseOom, sample, testConfig } from "./alert-fixture.ts";
import { webhookTest } from "./webhook-test.ts";

describe("webhook delivery", () => {
  webhookTest(
    "retries 500s with back-off, honours 429 retry_after, then delivers once",
    async ({ server, alertsOver }) => {
      const sink = new DiscordWebhookSink("discord-webhook:0", `${server.url}/api/webhooks/1/tok`);
      const h = alertsOver([sink]);
      server.script({ status: 500 }, { status: 503 }, { status: 429, retryAfterSeconds: 30 });
      raiseOom(h);
      expect(await h.alerting.deliverDue()).toBe(0); // 500 → retry in 1 s
      h.clock.advance(500);
      expect(await h.alerting.deliverDue()).toBe(0); // not yet due: no request
      expect(server.received).toHaveLength(1);
      h.clock.advance(500);
      expect(await h.alerting.deliverDue()).toBe(0); // 503 → retry in 2 s
      h.clock.advance(2000);
      expect(await h.alerting.deliverDue()).toBe(0); // 429, retry_after 30 s
      h.clock.advance(20_000);
      expect(await h.alerting.deliverDue()).toBe(0);
      expect(server.received).toHaveLength(3);
      h.clock.advance(10_000);
      expect(await h.alerting.deliverDue()).toBe(1);
      h.clock.advance(60_000);
      expect(await h.alerting.deliverDue()).toBe(0);
      expect(server.received.map((r) => r.outcome)).toEqual([500, 503, 429, 200]);
      expect(server.acceptedTotal()).toBe(1);
      expect(server.received[3]?.query).toBe("?wait=true");
      expect(h.alerting.backlog()).toBe(0);
    },
  );

  webhookTest("Slack's Retry-After header is honoured too", async ({ server, alertsOver }) => {
    const sink = new SlackWebhookSink("slack-webhook:0", `${server.url}/services/T/B/x`);
    const h = alertsOver([sink]);
    server.script({ status: 429, retryAfterSeconds: 7, style: "slack" });
    raiseOom(h);
    await h.alerting.deliverDue();
    h.clock.advance(6000);
    await h.alerting.deliverDue();
    expect(server.received).toHaveLength(1);
    h.clock.advance(1000);
    expect(await h.alerting.deliverDue()).toBe(1);
  });

  webhookTest(
    "Discord webhooks get a chart as an attachment shown in the embed; Slack's get the text",
    async ({ server }) => {
      const discord = new DiscordWebhookSink(
        "discord-webhook:0",
        `${server.url}/api/webhooks/1/tok`,
      );
      const slack = new SlackWebhookSink("slack-webhook:1", `${server.url}/services/T/B/x`);
      const png = Buffer.from("89504e470d0a1a0a0000000d49484452", "hex");
      const verdict: Message = {
        title: "exp001: Phase 1 passed (Test 2 workers)",
        severity: "success",
        lines: ["Phase 1 passed: 9.4 s/step (was 18.1 s, 1.9x)"],
        images: [
          {
            name: "exp001-phase1-passed.png",
            png,
            alt: "exp001: Phase 1 passed: Step time: 9.4 s",
          },
        ],
      };
      expect(await discord.deliver(verdict, "k-discord")).toEqual({ ok: true });
      expect(await slack.deliver(verdict, "k-slack")).toEqual({ ok: true });
      const [toDiscord, toSlack] = server.received;
      expect(String(toDiscord?.headers["content-type"])).toMatch(
        /^multipart\/form-data; boundary=/,
      );
      expect(toDiscord?.headers["x-trainops-idempotency-key"]).toBe("k-discord");
      expect(toDiscord?.files).toEqual([
        {
          field: "files[0]",
          filename: "exp001-phase1-passed.png",
          contentType: "image/png",
          data: png,
        },
      ]);
      const body = toDiscord?.body as {
        embeds: Array<{ image?: { url: string }; description: string }>;
        attachments: unknown;
      };
      expect(body.embeds[0]?.image).toEqual({ url: "attachment://exp001-phase1-passed.png" });
      expect(body.embeds[0]?.description).toBe("Phase 1 passed: 9.4 s/step (was 18.1 s, 1.9x)");
      expect(body.attachments).toEqual([
        {
          id: 0,
          filename: "exp001-phase1-passed.png",
          description: "exp001: Phase 1 passed: Step time: 9.4 s",
        },
      ]);
      // Slack incoming webhooks take no files: the verdict's text alone, as JSON.
      expect(toSlack?.headers["content-type"]).toBe("application/json");
      expect(toSlack?.files).toEqual([]);
      expect(JSON.stringify(toSlack?.body)).toContain("Phase 1 passed: 9.4 s/step");
    },
  );

  webhookTest(
    "a 404 (deleted webhook) is recorded as failed and not retried; other sinks still get it",
    async ({ server, alertsOver }) => {
      const bad = new DiscordWebhookSink("discord-webhook:0", `${server.url}/gone`);
      const good = new SlackWebhookSink("slack-webhook:1", `${server.url}/ok`);
      const h = alertsOver([bad, good]);
      server.script({ status: 404, body: '{"message": "Unknown Webhook", "code": 10015}' });
      raiseOom(h);
      await h.alerting.deliverDue();
      h.clock.advance(10 * MIN);
      await h.alerting.deliverDue();
      const paths = server.received.map((r) => r.path).sort();
      expect(paths).toEqual(["/gone", "/ok"]);
      const outbox = new AlertOutboxRepo(openDatabase(h.path));
      expect(outbox.deliveries(1)).toEqual([
        {
          sink: "discord-webhook:0",
          state: "failed",
          attempts: 1,
          lastError: expect.stringContaining("HTTP 404"),
          maybeDelivered: false,
        },
        {
          sink: "slack-webhook:1",
          state: "sent",
          attempts: 1,
          lastError: null,
          maybeDelivered: false,
        },
      ]);
    },
  );

  webhookTest(
    "a sink that is down does not hold back another sink, and catches up in order",
    async ({ server, alertsOver }) => {
      const down = new DiscordWebhookSink("discord-webhook:0", "http://127.0.0.1:1/never");
      const up = new DiscordWebhookSink("discord-webhook:1", `${server.url}/up`);
      const h = alertsOver([down, up]);
      raiseOom(h);
      await h.alerting.deliverDue();
      h.clock.advance(MIN);
      h.samples.insert(sample(h.clock.now(), { diskFreeBytes: 1024 ** 3 }));
      h.alerting.evaluate("exp001");
      await h.alerting.deliverDue();
      // The server counts an answer once it is fully written, which can be just after the client
      // has read its status line.
      await server.waitFor(() => server.acceptedTotal() === 2);
      expect(server.received.map((r) => (r.body as { content: string }).content)).toEqual([
        "**exp001: CUDA out of memory**",
        "**exp001: disk almost full: 1.0 GiB free**",
      ]);
      expect(h.alerting.backlog()).toBe(2);
    },
  );

  webhookTest("the sender loop delivers as soon as an alert is queued", async ({ server }) => {
    const dir = mkdtempSync(join(tmpdir(), "trainops-loop-"));
    const db = openDatabase(join(dir, "t.db"));
    const alerting = createAlerting({
      db,
      config: testConfig(),
      clock: systemClock,
      sinks: [new DiscordWebhookSink("discord-webhook:0", `${server.url}/hook`)],
      tickMs: 60_000,
    });
    alerting.senderLoop.start();
    try {
      new SamplesRepo(db).insert(sample(Date.now() - MIN));
      new EventsRepo(db).insert("exp001", Date.now(), {
        kind: "cuda_oom",
        line: "CUDA out of memory",
        lineNumber: 1,
        source: "log",
      });
      alerting.evaluate("exp001");
      await server.waitFor(() => server.acceptedTotal() === 1, 5000);
    } finally {
      await alerting.senderLoop.stop();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const LONG: Message = {
  title: `exp001: ${"very long title ".repeat(30)}`,
  severity: "critical",
  lines: Array.from({ length: 80 }, (_, i) => `line ${i} ${"x".repeat(80)}`),
  fields: Array.from({ length: 30 }, (_, i) => ({ name: `f${i}`, value: "v".repeat(2000) })),
  code: "Traceback (most recent call last):\n".repeat(300),
  mentions: {
    users: ["123456789012345678", "U0123ABCD"],
    roles: ["876543210987654321", "S0456EFGH"],
  },
  footer: "exp001/cuda_oom",
};

describe("platform payloads", () => {
  it("Discord: content ≤ 2000, embed within its limits, allowed_mentions exactly the mentioned ids", () => {
    const body = discordPayload(LONG) as {
      content: string;
      embeds: Array<{
        title: string;
        description: string;
        fields: Array<{ name: string; value: string }>;
        footer: { text: string };
      }>;
      allowed_mentions: unknown;
    };
    expect(body.content.length).toBeLessThanOrEqual(2000);
    expect(body.content.startsWith("<@&876543210987654321> <@123456789012345678> **")).toBe(true);
    expect(body.allowed_mentions).toEqual({
      parse: [],
      users: ["123456789012345678"],
      roles: ["876543210987654321"],
    });
    const embed = body.embeds[0]!;
    expect(embed.title.length).toBeLessThanOrEqual(256);
    expect(embed.description.length).toBeLessThanOrEqual(4096);
    expect(embed.fields.length).toBeLessThanOrEqual(25);
    for (const f of embed.fields) expect(f.value.length).toBeLessThanOrEqual(1024);
    const total =
      embed.title.length +
      embed.description.length +
      embed.footer.text.length +
      embed.fields.reduce((n, f) => n + f.name.length + f.value.length, 0);
    expect(total).toBeLessThanOrEqual(6000);
  });

  it("Discord: no mentions means no pings at all", () => {
    const body = discordPayload({ title: "exp001: finished", severity: "success" }) as {
      allowed_mentions: unknown;
      content: string;
    };
    expect(body.allowed_mentions).toEqual({ parse: [], users: [], roles: [] });
    // The bot's own rendering: a webhook message looks like the bot's.
    expect(body.content).toBe("**exp001: finished**");
    expect(JSON.stringify(body)).not.toContain("components");
  });

  it("a webhook message looks like the bot's: the platform's one renderer, without buttons", () => {
    const message: Message = {
      title: "exp001: CUDA out of memory",
      severity: "critical",
      lines: ["The GPU ran out of memory during training."],
      fields: [{ name: "VRAM", value: "78.5/80 GiB", inline: true }],
      code: "torch.OutOfMemoryError: CUDA out of memory.",
      buttons: [{ id: "act|logs|exp001", label: "Logs", style: "secondary" }],
      footer: "exp001 · CUDA OOM alert · since 17:10 UTC",
    };
    const bot = renderDiscord(message, { titleInContent: true });
    const hook = discordPayload(message) as { content: string; embeds: unknown[] };
    expect(hook.content).toBe(bot.content);
    expect(hook.embeds).toEqual(bot.embeds);
    expect(bot.components).toHaveLength(1);
    expect(hook).not.toHaveProperty("components");
    const slackBot = renderSlack(message)[0]!;
    const slackHook = slackPayload(message) as { text: string; blocks: Array<{ type: string }> };
    expect(slackHook.text).toBe(slackBot.text);
    expect(slackHook.blocks).toEqual(slackBot.blocks.filter((b) => b.type !== "actions"));
    expect(slackBot.blocks.some((b) => b.type === "actions")).toBe(true);
  });

  it("Slack: text plus blocks within block limits, Slack ids only", () => {
    const body = slackPayload(LONG) as {
      text: string;
      blocks: Array<{ type: string; text?: { text: string }; fields?: unknown[] }>;
    };
    expect(body.blocks.length).toBeLessThanOrEqual(50);
    expect(body.blocks[0]?.type).toBe("header");
    expect(body.blocks[0]?.text?.text.length).toBeLessThanOrEqual(150);
    for (const b of body.blocks) {
      if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
      if (b.fields) expect(b.fields.length).toBeLessThanOrEqual(10);
    }
    expect(body.text).toContain("<@U0123ABCD> <!subteam^S0456EFGH>");
    expect(body.text).not.toContain("123456789012345678");
    expect(body.text.length).toBeLessThanOrEqual(3000);
  });

  it("console: plain text, no colour codes", async () => {
    let out = "";
    const sink = new ConsoleSink({ write: (t: string) => (out += t) });
    expect(await sink.deliver(LONG)).toEqual({ ok: true });
    expect(out).toContain("exp001: very long title");
    expect(out).toContain("Traceback (most recent call last):");
    expect(out).not.toMatch(/\u001b\[/);
  });

  webhookTest(
    "configured sinks: console plus one per webhook, named by position; URLs never in errors",
    async ({ server }) => {
      const config = testConfig({
        console: true,
        webhooks: [
          { kind: "discord", url: "http://127.0.0.1:1/api/webhooks/9/secret-token" },
          { kind: "slack", url: `${server.url}/services/T/B/secret` },
        ],
      });
      const sinks = createConfiguredSinks(config, { stream: { write: () => true } });
      expect(sinks.map((s) => s.name)).toEqual(["console", "discord-webhook:0", "slack-webhook:1"]);
      const result = await sinks[1]!.deliver({ title: "t", severity: "info" }, "k");
      expect(result.ok).toBe(false);
      expect(JSON.stringify(result)).not.toContain("secret");
    },
  );
});
