import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configSchema } from "../../../src/config/schema.ts";
import { ManualClock } from "../../../src/core/clock.ts";
import { createSlackFrontEnd } from "../../../src/platforms/slack/slack-front-end.ts";
import { type AlertHarness, alertHarness } from "../../alerts/alert-fixture.ts";
import { FakeSlack } from "../../harness/fake-slack/fake-slack.ts";
import { runSample } from "../../harness/sample-factory.ts";
import { ALERT_CHANNEL, blockText, MemoryLog, slackConfig } from "./helpers.ts";
import { TestCore } from "./test-core.ts";

const MIN = 60_000;
/** `hour:minute` UTC on 2026-12-07 (a Monday) plus `day` days. */
const utc = (day: number, hour: number, minute = 0) => Date.UTC(2026, 11, 7 + day, hour, minute);

let fake: FakeSlack;
let h: AlertHarness | undefined;

beforeEach(async () => {
  fake = await FakeSlack.start();
});
afterEach(async () => {
  h?.close();
  await fake.stop();
});

/** An alerting over a temp store whose one channel is the Slack bot's alert channel. */
function harness(slack: Record<string, unknown>, startAt: number): AlertHarness {
  const config = configSchema.parse({
    runs: [
      {
        name: "exp001",
        ssh: "local",
        workdir: "/tmp/w",
        log: "train.log",
        steps: { perEpoch: 4000, epochs: 32 },
      },
    ],
    alerts: { console: false, rules: { gpu_idle: { for: "2m", repeatInterval: "0m" } } },
    slack: { ...slackConfig(fake), ...slack },
  });
  const sink = createSlackFrontEnd({
    config: config.slack!,
    core: new TestCore({ users: [], groups: [] }),
    log: new MemoryLog(),
    clock: new ManualClock(),
  }).sink;
  return alertHarness({ config, sinks: [sink], startAt });
}

/** One poll of exp001 a minute for `n` minutes, its GPU at `util`%, then the rules. */
function polls(harness: AlertHarness, n: number, util: number): void {
  for (let i = 0; i < n; i++) {
    harness.clock.advance(MIN);
    harness.samples.insert(
      runSample({
        at: harness.clock.now(),
        step: 1000 + Math.round((harness.clock.now() - utc(0, 0)) / 18_000),
        gpus: [{ ...runSample({ at: 0 }).gpus[0]!, utilizationPercent: util }],
      }),
    );
    harness.alerting.evaluate("exp001");
  }
}

const inAlertChannel = () => fake.messages.filter((m) => m.channel === ALERT_CHANNEL);

describe("Slack alert channel", () => {
  it("gets the digest once at its time, posted through Bolt as blocks", async () => {
    h = harness({ digest: { at: "09:00" } }, utc(0, 8));
    polls(h, 5, 85);
    await h.alerting.deliverDue();
    h.clock.set(utc(0, 9));
    await h.alerting.deliverDue();
    await h.alerting.deliverDue();
    const posted = inAlertChannel();
    expect(posted).toHaveLength(1);
    const text = blockText(posted[0]!.blocks);
    expect(text).toContain("Digest: last 24.0 h, to 2026-12-07 09:00 UTC");
    // The first poll (08:01, step 1,000 + 8 h 1 min at 18 s a step) to the last (08:05).
    expect(text).toContain("Steps: 2,603 → 2,617 of 128,000 (+14, 2.0% done)");
    expect(text).toContain("Speed: 200 steps/h (18 s/step)");
  });

  it("keeps quiet hours: a warning waits and posts at the end as one message", async () => {
    h = harness({ quietHours: [{ from: "22:00", to: "06:00" }] }, utc(0, 23));
    polls(h, 3, 0);
    await h.alerting.deliverDue();
    expect(inAlertChannel()).toEqual([]);
    polls(h, 2, 85);
    await h.alerting.deliverDue();
    expect(inAlertChannel()).toEqual([]);
    h.clock.set(utc(1, 6));
    await h.alerting.deliverDue();
    const posted = inAlertChannel();
    expect(posted).toHaveLength(1);
    const text = blockText(posted[0]!.blocks);
    expect(text).toContain("Quiet hours over: 1 held, 1 resolved meanwhile");
    expect(text).toMatch(/exp001: GPU idle .* — resolved meanwhile \(23:0\d UTC\)/);
  });
});
