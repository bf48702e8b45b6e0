import { afterEach, describe, expect, it } from "vitest";
import {
  type AlertHarness,
  alertHarness,
  fillSamples,
  freshStartSamples,
  GIB,
  MIN,
  sample,
  T0,
  testConfig,
} from "./alert-fixture.ts";

// The rules judge from facts they keep per run, folded in per sample; these cases check what
// those facts must carry over: a restart (rebuilt from the store), the newest poll that the
// history did not keep, and a window longer than the facts keep exactly.

let h: AlertHarness;
afterEach(() => h?.close());

describe("facts across a restart", () => {
  it("a stall that began before the restart is told from its start", async () => {
    h = alertHarness();
    fillSamples(h, T0 - 60 * MIN, T0 - 42 * MIN, (at, i) => sample(at, { step: 530 + i }));
    fillSamples(h, T0 - 40 * MIN, T0 - 35 * MIN, (at) => sample(at, { step: 549 }));
    h.clock.set(T0 - 35 * MIN);
    expect(h.alerting.evaluate("exp001").fired).toEqual([]);
    // The daemon restarts; the samples go on while it is down.
    h.restart();
    fillSamples(h, T0 - 34 * MIN, T0, (at) => sample(at, { step: 549 }));
    h.clock.set(T0);
    expect(h.alerting.evaluate("exp001").fired).toEqual(["stalled"]);
    await h.alerting.deliverDue();
    expect(h.sink.messages[0]?.title).toBe("exp001: stalled at step 549 for 40 min");
    expect(h.sink.messages[0]?.lines?.[0]).toContain("median step time 18 s; limit 10 min");
  });

  it("a crash read from samples stored before the restart: its start, its steps, its last error", async () => {
    h = alertHarness();
    freshStartSamples(h);
    h.clock.set(T0 - 17 * MIN);
    expect(h.alerting.evaluate("exp001").fired).toEqual([]);
    h.restart();
    h.samples.insert(sample(T0 - 16 * MIN, { alive: false, step: 3 }));
    h.clock.set(T0 - 16 * MIN);
    expect(h.alerting.evaluate("exp001").fired).toEqual(["crashed"]);
    await h.alerting.deliverDue();
    expect(h.sink.messages.map((m) => m.title)).toEqual([
      "exp001: failed to start: the process died after 2 steps",
    ]);
  });

  it("an outage's failed polls counted before the restart still count after it", async () => {
    h = alertHarness();
    fillSamples(h, T0 - 10 * MIN, T0 - 4 * MIN, (at, i) => sample(at, { step: 540 + i }));
    const down = (at: number) =>
      h.samples.insert({ ...sample(at), reachable: false, alive: null, step: null, gpus: [] });
    down(T0 - 3 * MIN);
    down(T0 - 2 * MIN);
    h.clock.set(T0 - 2 * MIN);
    expect(h.alerting.evaluate("exp001").fired).toEqual([]);
    h.restart();
    down(T0 - MIN);
    h.clock.set(T0 - MIN);
    expect(h.alerting.evaluate("exp001").fired).toEqual(["unreachable"]);
    await h.alerting.deliverDue();
    expect(h.sink.messages[0]?.title).toBe("exp001: VM unreachable for 3 polls");
  });
});

describe("the newest poll the history did not keep", () => {
  it("counts for this evaluation: a step after a stall resolves it before the next kept sample", () => {
    h = alertHarness();
    const every = 5 * MIN;
    fillSamples(h, T0 - 60 * MIN, T0 - 42 * MIN, (at, i) => sample(at, { step: 530 + i }));
    for (let at = T0 - 40 * MIN; at <= T0; at += every)
      h.samples.record(sample(at, { step: 549 }), every);
    expect(h.alerting.evaluate("exp001").fired).toEqual(["stalled"]);
    // A poll a minute later moves on: the history keeps one sample per 5 min, so it does not
    // keep this one; the rules still read it.
    h.clock.set(T0 + MIN);
    expect(h.samples.record(sample(T0 + MIN, { step: 550 }), every)).toBe(false);
    expect(h.alerting.evaluate("exp001").resolved).toEqual(["stalled"]);
    // The next poll replaces it; the stall is not back.
    h.clock.set(T0 + 2 * MIN);
    expect(h.samples.record(sample(T0 + 2 * MIN, { step: 551 }), every)).toBe(false);
    expect(h.alerting.evaluate("exp001")).toMatchObject({ fired: [], resolved: [] });
  });
});

describe("a window longer than the facts keep exactly", () => {
  it("throughput_drop over 12 h of polls a minute: the median of the thinned readings, then the drop", async () => {
    h = alertHarness({ config: testConfig({ rules: { eta_slip: { enabled: false } } }) });
    // 12 h at 6,000 steps/h with a slow tenth (4,800), then a throttled GPU at 2,400 steps/h.
    const speed = (m: number) => (m % 10 === 0 ? 4800 : 6000);
    let m = 0;
    const poll = (stepsPerHour: number) => {
      const at = T0 + m++ * MIN;
      h.clock.set(at);
      h.samples.insert(
        sample(at, { step: 1000 + m * 100, stepsPerHour, stepTimeSeconds: 3600 / stepsPerHour }),
      );
      return h.alerting.evaluate("exp001");
    };
    const fired: string[] = [];
    while (m < 12 * 60) fired.push(...poll(speed(m)).fired);
    expect(fired).toEqual([]);
    for (let i = 0; i < 12; i++) fired.push(...poll(2400).fired);
    expect(fired).toEqual(["throughput_drop"]);
    await h.alerting.deliverDue();
    expect(h.sink.messages[0]?.title).toBe(
      "exp001: throughput dropped to 40%: 2,400 steps/h (median 6,000)",
    );
  });

  it("cuda_oom quotes the VRAM peak of the 10 min before it, hours into a run", async () => {
    h = alertHarness();
    // 8 h of polls a minute at 60 GiB, the last 10 min climbing to 79.5 GiB.
    const start = T0 - 8 * 60 * MIN;
    fillSamples(h, start, T0 - MIN, (at) => {
      const climb = Math.max(0, (at - (T0 - 10 * MIN)) / MIN);
      const used = (60 + climb * 2.1) * 1024;
      return sample(at, {
        step: 100 + (at - start) / MIN,
        gpus: [{ ...sample(0).gpus[0]!, memoryUsedMiB: used }],
        hostMemory: { usedBytes: 40 * GIB, totalBytes: 128 * GIB },
      });
    });
    h.addEvent(T0, { kind: "cuda_oom", line: "torch.OutOfMemoryError: CUDA out of memory." });
    expect(h.alerting.evaluate("exp001").fired).toEqual(["cuda_oom"]);
    await h.alerting.deliverDue();
    expect(h.sink.messages[0]?.lines).toContain("VRAM peak before it: 78.9 GiB of 80.0 GiB.");
  });
});
