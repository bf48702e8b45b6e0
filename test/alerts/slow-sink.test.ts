import { createServer } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DiscordWebhookSink } from "../../src/platforms/discord/discord-webhook-sink.ts";
import { SlackWebhookSink } from "../../src/platforms/slack/slack-webhook-sink.ts";
import { AlertOutboxRepo } from "../../src/store/alert-outbox-repo.ts";
import { openDatabase } from "../../src/store/database.ts";
import { WebhookServer } from "../harness/webhook-server.ts";
import { type AlertHarness, alertHarness, MIN, sample } from "./alert-fixture.ts";

function oom(harness: AlertHarness, line: string): void {
  harness.samples.insert(sample(harness.clock.now() - MIN));
  harness.addEvent(harness.clock.now(), { kind: "cuda_oom", line });
  harness.alerting.evaluate("exp001");
}

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe("slow webhooks", () => {
  // Each case waits on its webhook's answer; side by side, the file waits for the slowest once.
  it.concurrent.each([
    { platform: "discord", delayMs: 5_000 },
    { platform: "slack", delayMs: 15_000 },
  ])(
    "a $platform webhook answering after $delayMs ms posts the alert once",
    async ({ platform, delayMs }) => {
      const slow = await WebhookServer.start();
      const sink =
        platform === "discord"
          ? new DiscordWebhookSink("discord-webhook:0", `${slow.url}/api/webhooks/1/tok`)
          : new SlackWebhookSink("slack-webhook:0", `${slow.url}/services/T/B/x`);
      const harness = alertHarness({ sinks: [sink] });
      try {
        slow.script({ status: 200, delayMs });
        oom(harness, "torch.OutOfMemoryError: CUDA out of memory.");
        expect(await harness.alerting.deliverDue()).toBe(1);
        // Later passes find nothing owed: nothing goes out again.
        harness.clock.advance(10 * MIN);
        expect(await harness.alerting.deliverDue()).toBe(0);
        expect([...slow.postedPerKey().values()]).toEqual([1]);
        expect(harness.alerting.backlog()).toBe(0);
      } finally {
        harness.close();
        await slow.close();
      }
    },
    60_000,
  );
});

describe("silent and refusing sinks", () => {
  let server: WebhookServer;
  let h: AlertHarness | undefined;
  beforeEach(async () => {
    server = await WebhookServer.start();
  });
  afterEach(async () => {
    h?.close();
    h = undefined;
    await server.close();
  });

  it("sends once more after no answer, then records 'maybe delivered' instead of a third copy", async () => {
    const sink = new DiscordWebhookSink(
      "discord-webhook:0",
      `${server.url}/api/webhooks/1/tok`,
      fetch,
      300,
    );
    h = alertHarness({ sinks: [sink] });
    server.script({ hold: true }, { hold: true }, { hold: true });
    oom(h, "torch.OutOfMemoryError: CUDA out of memory.");
    expect(await h.alerting.deliverDue()).toBe(0);
    h.clock.advance(MIN);
    expect(await h.alerting.deliverDue()).toBe(0);
    h.clock.advance(10 * MIN);
    expect(await h.alerting.deliverDue()).toBe(0);
    expect(server.received).toHaveLength(2);
    const [delivery] = new AlertOutboxRepo(openDatabase(h.path)).deliveries(1);
    expect(delivery).toMatchObject({ state: "sent", maybeDelivered: true, attempts: 2 });
    expect(delivery?.lastError).toBe("maybe delivered: no answer within 300 ms");
    expect(h.alerting.backlog()).toBe(0);
  });

  it("keeps retrying a refused connection: nothing reached the platform", async () => {
    const port = await closedPort();
    const sink = new SlackWebhookSink("slack-webhook:0", `http://127.0.0.1:${port}/services/T/B/x`);
    h = alertHarness({ sinks: [sink] });
    oom(h, "torch.OutOfMemoryError: CUDA out of memory.");
    for (let i = 0; i < 4; i++) {
      expect(await h.alerting.deliverDue()).toBe(0);
      h.clock.advance(10 * MIN);
    }
    const [delivery] = new AlertOutboxRepo(openDatabase(h.path)).deliveries(1);
    expect(delivery).toMatchObject({ state: "pending", maybeDelivered: false, attempts: 4 });
    expect(delivery?.lastError).toBe("request failed: ECONNREFUSED");
  });

  it("gives each batch a random idempotency key, unique across stores", () => {
    const keys = [1, 2].map(() => {
      const outbox = new AlertOutboxRepo(openDatabase(":memory:"));
      const id = outbox.add({
        createdAt: 0,
        run: "exp001",
        alertId: null,
        kind: "notice",
        message: { title: "t", severity: "info" },
      });
      outbox.seal("exp001", [id], { title: "t", severity: "info" }, ["console"], 0);
      return outbox.pendingFor("console")[0]?.idempotencyKey;
    });
    expect(keys[0]).toMatch(
      /^trainops-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    expect(keys[1]).not.toBe(keys[0]);
  });
});
