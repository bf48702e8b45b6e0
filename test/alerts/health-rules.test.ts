import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/config-error.ts";
import type { Message } from "../../src/message/message.ts";
import { type AlertHarness, alertHarness, MIN, T0, testConfig } from "./alert-fixture.ts";
import { HealthLogFeed, stepLine } from "./health-log-feed.ts";

let h: AlertHarness;
let feed: HealthLogFeed;
afterEach(() => {
  feed?.close();
  h?.close();
});

function start(rules: Record<string, unknown> = {}): void {
  h = alertHarness({ config: testConfig({ rules }) });
  feed = new HealthLogFeed(h);
}

/** The training as seen by one poll a minute: `steps` new steps at `seconds` per step. */
class Trainer {
  step = 1000;
  constructor(
    private readonly at: (minute: number) => number = (m) => T0 + m * MIN,
    public loss: (step: number) => number = () => 0.5,
  ) {}
  minute = 0;
  /** One poll's worth of lines; returns what the alerts did. */
  poll(steps: number, seconds: number, alive: boolean | null = true) {
    h.clock.set(this.at(this.minute++));
    const lines: string[] = [];
    for (let i = 0; i < steps; i++) {
      this.step += 1;
      lines.push(stepLine(this.step, this.loss(this.step), seconds));
    }
    feed.poll(lines, alive);
    return h.alerting.evaluate("exp001");
  }
}

async function delivered(filter: string): Promise<Message[]> {
  await h.alerting.deliverDue();
  return h.sink.messages.filter((m) => m.title.includes(filter));
}

describe("loss_plateau", () => {
  it("is off unless enabled: a flat loss over thousands of steps says nothing", async () => {
    start();
    const t = new Trainer();
    for (let m = 0; m < 40; m++) expect(t.poll(100, 0.6).fired).toEqual([]);
    expect(await delivered("plateau")).toEqual([]);
  });

  it("enabled: no new best loss over `steps` fires once with the best and where it was; a new best resolves it", async () => {
    start({ loss_plateau: { enabled: true, steps: 1000, minDelta: 0.01 } });
    // Falling to 0.40 by step 2000, then flat with noise that never beats it by 0.01.
    const t = new Trainer(undefined, (s) => (s <= 2000 ? 1.4 - s / 2000 : 0.405 + (s % 7) * 0.001));
    const fired: string[] = [];
    for (let m = 0; m < 40; m++) fired.push(...t.poll(100, 0.6).fired);
    expect(fired).toEqual(["loss_plateau"]);
    const [alert, ...more] = await delivered("plateau");
    expect(more).toEqual([]);
    expect(alert?.title).toMatch(
      /^exp001: loss plateau: no new best in [\d,]+ steps \(best 0\.400\)$/,
    );
    expect(alert?.lines?.[0]).toContain("The best loss is 0.400 at step 2,000");
    expect(alert?.lines?.[0]).toContain("at least 0.01 lower");
    expect(alert?.severity).toBe("warning");
    // Learning again.
    t.loss = () => 0.3;
    expect(t.poll(100, 0.6).resolved).toEqual(["loss_plateau"]);
    const [resolved] = await delivered("resolved");
    expect(resolved?.title).toMatch(/^exp001: loss plateau resolved after/);
    expect(resolved?.lines).toEqual(["The loss improves again (now 0.300)."]);
  });

  it("judges nothing until the log reaches back `steps` steps (no data, or a fresh resume)", async () => {
    start({ loss_plateau: { enabled: true, steps: 5000 } });
    const t = new Trainer();
    for (let m = 0; m < 30; m++) expect(t.poll(100, 0.6).fired).toEqual([]);
    expect(await delivered("plateau")).toEqual([]);
  });

  it("a bad setting is a config error naming the key", () => {
    expect(() =>
      alertHarness({ config: testConfig({ rules: { loss_plateau: { steps: 0 } } }) }),
    ).toThrow(/alerts\.rules\.loss_plateau\.steps: /);
  });
});

describe("throughput_drop", () => {
  it("fires when steps/h stay under 60% of the training's own median for 10 min, then resolves", async () => {
    // The later finish would be said too (in one grouped message); this test reads the drop alone.
    start({ eta_slip: { enabled: false } });
    const t = new Trainer();
    const fired: string[] = [];
    // 40 min at 0.6 s/step (6,000 steps/h), then a throttled GPU at 1.5 s/step (2,400 steps/h).
    for (let m = 0; m < 40; m++) fired.push(...t.poll(100, 0.6).fired);
    expect(fired).toEqual([]);
    const slowFired: number[] = [];
    for (let m = 0; m < 20; m++)
      if (t.poll(40, 1.5).fired.includes("throughput_drop")) slowFired.push(m);
    // Not before it held for `for` (10 min), once.
    expect(slowFired).toHaveLength(1);
    expect(slowFired[0]).toBeGreaterThanOrEqual(10);
    const [alert, ...more] = await delivered("throughput");
    expect(more).toEqual([]);
    expect(alert?.title).toBe("exp001: throughput dropped to 40%: 2,400 steps/h (median 6,000)");
    expect(alert?.lines?.[0]).toContain("alert below 60% for 10 min");
    // Back to speed.
    const resolved: string[] = [];
    for (let m = 0; m < 4; m++) resolved.push(...t.poll(100, 0.6).resolved);
    expect(resolved).toEqual(["throughput_drop"]);
    const [back] = await delivered("resolved");
    expect(back?.lines).toEqual(["Training is back to 6,000 steps/h."]);
  });

  it("does not fire during warm-up after a restart, nor judge a run with too little history", async () => {
    start();
    const t = new Trainer();
    for (let m = 0; m < 30; m++) t.poll(100, 0.6);
    // The process stops, then a new one resumes from a checkpoint and warms up slowly.
    t.poll(0, 0.6, false);
    t.poll(0, 0.6, false);
    t.step = 500;
    const fired: string[] = [];
    for (let m = 0; m < 9; m++) fired.push(...t.poll(20, 3).fired);
    // Then the new settings run steadily slower than before: that is its own median, not a drop
    // (the later finish is eta_slip's to say).
    for (let m = 0; m < 30; m++) fired.push(...t.poll(50, 1.2).fired);
    expect(fired.filter((r) => r === "throughput_drop")).toEqual([]);
    expect(await delivered("throughput")).toEqual([]);
  });

  it("with the process gone it is not a slowdown (the crash rules say that)", async () => {
    start();
    const t = new Trainer();
    for (let m = 0; m < 30; m++) t.poll(100, 0.6);
    for (let m = 0; m < 15; m++)
      expect(t.poll(0, 0.6, false).fired).not.toContain("throughput_drop");
  });
});

describe("eta_slip", () => {
  it("fires when the finish moved later by more than 10% of what was left since the oldest reading", async () => {
    start({ throughput_drop: { enabled: false } });
    // Every 10 min for 6 h at 0.6 s/step, then 1.2 s/step: the ETA doubles.
    const t = new Trainer((m) => T0 + m * 10 * MIN);
    const fired: string[] = [];
    for (let m = 0; m < 36; m++) fired.push(...t.poll(1000, 0.6).fired);
    expect(fired).toEqual([]);
    for (let m = 0; m < 8; m++) fired.push(...t.poll(500, 1.2).fired);
    expect(fired).toEqual(["eta_slip"]);
    const [alert] = await delivered("finish moved");
    expect(alert?.title).toMatch(
      /^exp001: finish moved [\d.]+ h later in 6 h \d+ min: ETA [\d.]+ h$/,
    );
    expect(alert?.lines?.[0]).toMatch(/alert above 10% of the [\d.]+ h left then/);
  });

  it("takes a duration bound, and stays quiet under it and without an hour of history", async () => {
    start({ eta_slip: { by: "2d" } });
    const t = new Trainer((m) => T0 + m * 10 * MIN);
    const fired: string[] = [];
    for (let m = 0; m < 5; m++) fired.push(...t.poll(1000, 0.6).fired);
    for (let m = 0; m < 20; m++) fired.push(...t.poll(500, 1.2).fired);
    expect(fired.filter((r) => r === "eta_slip")).toEqual([]);
  });

  it("a bound that is neither a duration nor a share is a config error naming the key", () => {
    expect(() =>
      alertHarness({ config: testConfig({ rules: { eta_slip: { by: "lots" } } }) }),
    ).toThrow(ConfigError);
    expect(() =>
      alertHarness({ config: testConfig({ rules: { eta_slip: { by: "lots" } } }) }),
    ).toThrow(/alerts\.rules\.eta_slip\.by: expected a duration like 6h or 1d, or a share/);
  });
});
