import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AlertSink, DeliveryResult } from "../../../src/alerts/sinks/alert-sink.ts";
import { ManualClock } from "../../../src/core/clock.ts";
import type { Message } from "../../../src/message/message.ts";
import { createSlackFrontEnd } from "../../../src/platforms/slack/slack-front-end.ts";
import { checkMessageLimits } from "../../harness/fake-slack/block-limits.ts";
import { FakeSlack } from "../../harness/fake-slack/fake-slack.ts";
import {
  ALERT_CHANNEL,
  blockText,
  MemoryLog,
  OPERATOR,
  OPERATOR_GROUP,
  slackConfig,
} from "./helpers.ts";
import { TestCore, TINY_PNG } from "./test-core.ts";

let fake: FakeSlack;
let clock: ManualClock;
let sink: AlertSink;

const alert: Message = {
  title: "exp001: OOM kill",
  severity: "critical",
  lines: ["The training process was killed by the kernel (out of memory) at step 812."],
  mentions: { users: [OPERATOR], roles: [OPERATOR_GROUP] },
  footer: "rule oom · run exp001",
};

beforeEach(async () => {
  fake = await FakeSlack.start();
  clock = new ManualClock();
  sink = createSlackFrontEnd({
    config: slackConfig(fake),
    core: new TestCore({ users: [], groups: [] }),
    log: new MemoryLog(),
    clock,
  }).sink;
});

afterEach(async () => {
  await fake.stop();
});

/** The outbox's loop, reduced: deliver until ok or permanent, honouring retryAfterMs. */
async function outbox(message: Message, key: string, attempts = 10): Promise<DeliveryResult[]> {
  const results: DeliveryResult[] = [];
  for (let i = 0; i < attempts; i++) {
    const result = await sink.deliver(message, key);
    results.push(result);
    if (result.ok || !result.retryable) break;
    clock.advance(result.retryAfterMs ?? 1000);
  }
  return results;
}

describe("Slack alert sink", () => {
  it("posts to the alert channel with user and user-group mentions", async () => {
    expect(sink.name).toBe("slack-bot");
    expect(await sink.deliver(alert, "a1")).toEqual({ ok: true });
    const [posted] = fake.messages;
    expect(posted?.channel).toBe(ALERT_CHANNEL);
    expect(posted?.text).toContain("<@U0OPERATOR1> <!subteam^S0OPSGROUP1>");
    expect(blockText(posted?.blocks ?? [])).toContain("<@U0OPERATOR1> <!subteam^S0OPSGROUP1>");
    expect(posted?.metadata).toEqual({
      event_type: "trainops_alert",
      event_payload: { key: "a1" },
    });
  });

  it("never lets alert text ping anyone it was not asked to", async () => {
    await sink.deliver(
      { title: "log says <!channel>", severity: "warning", lines: ["<!here> <@U0SOMEONE1>"] },
      "a2",
    );
    const [posted] = fake.messages;
    // Header text is plain_text, which Slack never parses for mentions; everything else is escaped.
    const parsed = {
      text: posted?.text,
      blocks: posted?.blocks.filter((b) => (b as { type: string }).type !== "header"),
    };
    expect(JSON.stringify(parsed)).not.toMatch(/<!channel>|<!here>|<@U0SOMEONE1>/);
    expect(blockText(posted?.blocks ?? [])).toContain("&lt;!here&gt;");
  });

  it("answers a 429 with Slack's retry_after and does not call Slack again before it passes", async () => {
    fake.failNext("chat.postMessage", 1, { retryAfter: 7 });
    const first = await sink.deliver(alert, "a3");
    expect(first).toMatchObject({ ok: false, retryable: true, retryAfterMs: 7000 });
    clock.advance(3000);
    const early = await sink.deliver(alert, "a3");
    expect(early).toMatchObject({ ok: false, retryable: true, retryAfterMs: 4000 });
    expect(fake.calls("chat.postMessage")).toHaveLength(1);
    clock.advance(4000);
    expect(await sink.deliver(alert, "a3")).toEqual({ ok: true });
    expect(fake.messages).toHaveLength(1);
  });

  it("keeps alerts through an outage and delivers each exactly once", async () => {
    fake.failNext("chat.postMessage", 2, { status: 503 });
    const results = await outbox(alert, "a4");
    expect(results.map((r) => r.ok)).toEqual([false, false, true]);
    expect(results[0]).toMatchObject({ retryable: true, error: "Slack answered HTTP 503" });

    await fake.down();
    const down = await sink.deliver({ ...alert, title: "exp001: GPU idle" }, "a5");
    expect(down).toMatchObject({ ok: false, retryable: true });
    expect((down as { error: string }).error).toMatch(/Slack unreachable/);
    await fake.up();
    expect(await sink.deliver({ ...alert, title: "exp001: GPU idle" }, "a5")).toEqual({ ok: true });
    // A redelivery of an alert that already went out (the outbox crashed before recording it).
    expect(await sink.deliver({ ...alert, title: "exp001: GPU idle" }, "a5")).toEqual({ ok: true });

    const titles = fake.messages.map((m) => m.text.split("\n")[0]);
    expect(titles).toEqual([
      "exp001: OOM kill <@U0OPERATOR1> <!subteam^S0OPSGROUP1>",
      "exp001: GPU idle <@U0OPERATOR1> <!subteam^S0OPSGROUP1>",
    ]);
  });

  it("does not retry what can never work", async () => {
    fake.failNext("chat.postMessage", 1, { error: "channel_not_found" });
    expect(await sink.deliver(alert, "a6")).toMatchObject({
      ok: false,
      retryable: false,
      error: expect.stringContaining("check slack.alertChannel"),
    });
    fake.failNext("chat.postMessage", 1, { error: "invalid_auth" });
    expect(await sink.deliver(alert, "a7")).toMatchObject({
      ok: false,
      retryable: false,
      error: expect.stringContaining("SLACK_BOT_TOKEN"),
    });
  });

  it("splits a long alert within Slack's limits and resumes a half-sent one where it stopped", async () => {
    const long: Message = {
      title: "exp001: errors",
      severity: "warning",
      code: Array.from({ length: 25_000 }, (_, i) => `line ${i} ${"x".repeat(20)}`).join("\n"),
      images: [{ name: "exp001-vram.png", png: TINY_PNG, alt: "VRAM" }],
    };
    fake.failNext("chat.postMessage", 1, { status: 500 });
    // The first part fails once; then parts go out; the retry must not repeat any part.
    const results = await outbox(long, "a8");
    expect(results.at(-1)).toEqual({ ok: true });
    const parts = fake.messages;
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(checkMessageLimits(part.text, part.blocks)).toBeUndefined();
    expect(new Set(parts.map((p) => p.text)).size).toBe(parts.length);
    expect(parts.slice(1).every((p) => p.threadTs === parts[0]?.ts)).toBe(true);
    expect(blockText(parts.at(-1)?.blocks ?? [])).toContain("more blocks cut");
    const file = [...fake.files.values()].find((f) => f.completed);
    expect(file?.channel).toBe(ALERT_CHANNEL);
  });

  it("a failure in the middle of a split alert resumes with the next part", async () => {
    const two: Message = {
      title: "exp001: log",
      severity: "info",
      code: Array.from({ length: 60 }, (_, i) => `${i} ${"y".repeat(2900)}`).join("\n"),
    };
    fake.failNext("chat.postMessage", 1, { status: 500, after: 1 });
    expect(await sink.deliver(two, "a9")).toMatchObject({ ok: false, retryable: true });
    expect(fake.messages).toHaveLength(1);
    expect(await sink.deliver(two, "a9")).toEqual({ ok: true });
    const texts = fake.messages.map((m) => m.text);
    expect(texts).toEqual(["exp001: log", "exp001: log (2/2)"]);
  });
});
