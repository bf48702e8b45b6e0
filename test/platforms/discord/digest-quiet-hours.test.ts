import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../../../src/config/schema.ts";
import { type AlertHarness, alertHarness } from "../../alerts/alert-fixture.ts";
import { runSample } from "../../harness/sample-factory.ts";
import { type Harness, startHarness } from "./discord-setup.ts";
import { TestCore } from "./test-core.ts";

const MIN = 60_000;
/** `hour:minute` in Tokyo (UTC+9) on 2026-12-07 (a Monday) plus `day` days. */
const tokyo = (day: number, hour: number, minute = 0) =>
  Date.UTC(2026, 11, 7 + day, hour - 9, minute);

let h: Harness;
beforeAll(async () => {
  h = await startHarness(new TestCore());
});
afterAll(async () => {
  await h.close();
});

/** An alerting whose one channel is the Discord bot's alert channel, in Tokyo time. */
function alerting(startAt: number): AlertHarness {
  const config = configSchema.parse({
    runs: [{ name: "exp001", ssh: "local", workdir: "/tmp/w", log: "train.log" }],
    alerts: { console: false, rules: { gpu_idle: { for: "2m", repeatInterval: "0m" } } },
    discord: {
      alertChannel: h.fake.channelIds[1],
      timezone: "Asia/Tokyo",
      digest: { at: "09:00" },
      quietHours: [{ from: "01:00", to: "08:30" }],
      mentions: { critical: ["111111111111111111"], warning: ["222222222222222222"] },
    },
  });
  return alertHarness({ config, sinks: [h.bot.sink], startAt });
}

function polls(a: AlertHarness, n: number, util: number): void {
  for (let i = 0; i < n; i++) {
    a.clock.advance(MIN);
    a.samples.insert(
      runSample({
        at: a.clock.now(),
        gpus: [{ ...runSample({ at: 0 }).gpus[0]!, utilizationPercent: util }],
      }),
    );
    a.alerting.evaluate("exp001");
  }
}

const titles = () =>
  h.fake.channelMessages.map((m) => (m.embeds as Array<{ title?: string }>)[0]?.title ?? "");

describe("Discord alert channel", () => {
  it("holds a warning through quiet hours, posts the summary at the end, then the digest", async () => {
    const a = alerting(tokyo(0, 2));
    try {
      await a.alerting.deliverDue(); // the digest schedule starts (yesterday's 09:00)
      polls(a, 3, 0); // 02:03: the GPU idles: a warning, held
      await a.alerting.deliverDue();
      const before = h.fake.channelMessages.length;
      expect(titles().filter((t) => t.includes("GPU idle"))).toEqual([]);
      a.clock.set(tokyo(0, 8, 30));
      await a.alerting.deliverDue();
      a.clock.set(tokyo(0, 9));
      await a.alerting.deliverDue();
      await a.alerting.deliverDue();
      const posted = h.fake.channelMessages.slice(before);
      expect(posted.map((m) => (m.embeds as Array<{ title?: string }>)[0]?.title)).toEqual([
        "Quiet hours over: 1 held, 1 still firing",
        "Digest: last 24.0 h, to 2026-12-07 09:00 GMT+9",
      ]);
      // The summary pings who the warning would have pinged; the digest pings nobody.
      expect(posted[0]?.content).toContain("<@222222222222222222>");
      expect(posted[1]?.content ?? "").not.toContain("<@");
      const embeds = (posted[1]?.embeds ?? []) as Array<{
        fields?: Array<{ name: string; value: string }>;
      }>;
      const fields = embeds[0]?.fields;
      expect(fields?.[0]?.name).toBe("exp001");
      expect(fields?.[0]?.value).toContain("Alerts: 1 fired, 0 resolved (idle GPU); 1 firing now");
    } finally {
      a.close();
    }
  });
});
