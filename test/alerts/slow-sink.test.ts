import { describe, expect, it } from "vitest";
import { DiscordWebhookSink } from "../../src/platforms/discord/discord-webhook-sink.ts";
import { SlackWebhookSink } from "../../src/platforms/slack/slack-webhook-sink.ts";
import { AlertOutboxRepo } from "../../src/store/alert-outbox-repo.ts";
import { openDatabase } from "../../src/store/database.ts";
import { freePort } from "../harness/free-port.ts";
import { MIN, raiseOom } from "./alert-fixture.ts";
import { webhookTest } from "./webhook-test.ts";

describe("slow webhooks", () => {
  // Each case waits on its webhook's answer; side by side, the file waits for the slowest once.
  webhookTest.concurrent.for([
    { platform: "discord", delayMs: 5_000 },
    { platform: "slack", delayMs: 15_000 },
  ])(
    "a $platform webhook answering after $delayMs ms posts the alert once",
    { timeout: 60_000 },
    async ({ platform, delayMs }, { server: slow, alertsOver, expect }) => {
      const sink =
        platform === "discord"
          ? new DiscordWebhookSink("discord-webhook:0", `${slow.url}/api/webhooks/1/tok`)
          : new SlackWebhookSink("slack-webhook:0", `${slow.url}/services/T/B/x`);
      const harness = alertsOver([sink]);
      slow.script({ status: 200, delayMs });
      raiseOom(harness);
      expect(await harness.alerting.deliverDue()).toBe(1);
      // Later passes find nothing owed: nothing goes out again.
      harness.clock.advance(10 * MIN);
      expect(await harness.alerting.deliverDue()).toBe(0);
      expect([...slow.postedPerKey().values()]).toEqual([1]);
      expect(harness.alerting.backlog()).toBe(0);
    },
  );
});

describe("silent and refusing sinks", () => {
  webhookTest(
    "sends once more after no answer, then records 'maybe delivered' instead of a third copy",
    async ({ server, alertsOver }) => {
      const sink = new DiscordWebhookSink(
        "discord-webhook:0",
        `${server.url}/api/webhooks/1/tok`,
        fetch,
        300,
      );
      const h = alertsOver([sink]);
      server.script({ hold: true }, { hold: true }, { hold: true });
      raiseOom(h);
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
    },
  );

  webhookTest(
    "keeps retrying a refused connection: nothing reached the platform",
    async ({ alertsOver }) => {
      const port = await freePort();
      const sink = new SlackWebhookSink(
        "slack-webhook:0",
        `http://127.0.0.1:${port}/services/T/B/x`,
      );
      const h = alertsOver([sink]);
      raiseOom(h);
      for (let i = 0; i < 4; i++) {
        expect(await h.alerting.deliverDue()).toBe(0);
        h.clock.advance(10 * MIN);
      }
      const [delivery] = new AlertOutboxRepo(openDatabase(h.path)).deliveries(1);
      expect(delivery).toMatchObject({ state: "pending", maybeDelivered: false, attempts: 4 });
      expect(delivery?.lastError).toBe("request failed: ECONNREFUSED");
    },
  );

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
