import { afterEach, describe, expect, it } from "vitest";
import { digestMessage } from "../../src/alerts/digest/digest-message.ts";
import { FilteredSink } from "../../src/alerts/sinks/sink-filter.ts";
import { type Config, configSchema } from "../../src/config/schema.ts";
import { renderText } from "../../src/message/render-text.ts";
import { openDatabase } from "../../src/store/database.ts";
import { PhasesRepo } from "../../src/store/phases-repo.ts";
import { StepsRepo } from "../../src/store/steps-repo.ts";
import { newPhaseAttempt } from "../harness/phase-factory.ts";
import { runSample } from "../harness/sample-factory.ts";
import {
  type AlertHarness,
  alertHarness,
  FlakySink,
  MemorySink,
  testRuns,
} from "./alert-fixture.ts";

const HOUR = 3_600_000;
/** 2026-12-07 (a Monday) 00:00 UTC. */
const DAY0 = Date.UTC(2026, 11, 7);
const at = (day: number, hour: number, minute = 0) =>
  DAY0 + day * 24 * HOUR + hour * HOUR + minute * 60_000;

let h: AlertHarness | undefined;
afterEach(() => h?.close());

/** The user's run with a price, a second run, and one JSON webhook channel with `channel` keys. */
function config(channel: Record<string, unknown>, extra: Record<string, unknown> = {}): Config {
  return configSchema.parse({
    runs: testRuns({ cost: { perHour: 32.77, currency: "USD" } }),
    alerts: {
      console: false,
      webhooks: [{ kind: "json", url: "http://127.0.0.1:9/hook", ...channel }],
      rules: { gpu_idle: { for: "2m", repeatInterval: "0m" } },
    },
    ...extra,
  });
}

/** The memory sink under the name the config's first webhook has. */
const channelSink = () => new MemorySink("json-webhook:0");

/**
 * exp001 trains at 200 steps/h (18 s/step) from `from` to `to`, one poll every 10 min with the
 * clock moved along and the rules run, its GPU idle between `idle` hours (absolute ms).
 */
function train(
  harness: AlertHarness,
  from: number,
  to: number,
  idle: [number, number] | null = null,
): void {
  const db = openDatabase(harness.path);
  const steps = new StepsRepo(db);
  for (let t = from; t <= to; t += 10 * 60_000) {
    harness.clock.set(t);
    const step = 10_000 + Math.round(((t - at(0, 9)) / HOUR) * 200);
    const util = idle && t >= idle[0] && t < idle[1] ? 0 : 85;
    harness.samples.insert(
      runSample({
        at: t,
        step,
        epoch: Math.floor(step / 4000) + 1,
        gpus: [{ ...runSample({ at: 0 }).gpus[0]!, utilizationPercent: util }],
      }),
    );
    steps.insert("exp001", { at: t, step, total: null, epoch: null, loss: 0.4, stepTime: 18 });
    harness.alerting.evaluate("exp001");
  }
  db.close();
}

describe("digest content", () => {
  it("shows each run's steps, speed, ETA, phase results, alerts and cost from the store", () => {
    h = alertHarness({ config: config({}), sinks: [channelSink()], startAt: at(0, 9) });
    // Day 0 09:00 → day 1 09:00: training, GPU idle 13:00-14:00 (fires after 2 min), a CUDA OOM
    // at 20:00.
    train(h, at(0, 9), at(0, 20), [at(0, 13), at(0, 14)]);
    h.addEvent(at(0, 20), { kind: "cuda_oom", line: "torch.OutOfMemoryError: CUDA out of memory" });
    h.alerting.evaluate("exp001");
    // One idle poll at 22:00 (under the rule's 2 min): pending, cleared, never sent, not counted.
    train(h, at(0, 20, 10), at(1, 9), [at(0, 22), at(0, 22, 5)]);
    const db = openDatabase(h.path);
    new PhasesRepo(db).create(
      newPhaseAttempt({
        plan: "speedup",
        phaseIndex: 1,
        name: "more workers",
        startedAt: at(0, 10),
        measureFrom: at(0, 11),
        endedAt: at(0, 16),
        workers: 8,
        paused: false,
        actor: "alice",
      }),
    );
    db.close();

    const report = h.alerting.digest({ from: at(0, 9), to: at(1, 9) });
    const exp001 = report.runs.find((r) => r.run === "exp001")!;
    // 24 h at 200 steps/h: 10,000 → 14,800 of 4,000 × 32 = 128,000.
    expect(exp001).toMatchObject({
      stepFrom: 10_000,
      stepTo: 14_800,
      totalSteps: 128_000,
      stepsPerHour: 200,
      stepTimeSeconds: 18,
    });
    expect(exp001.done).toBeCloseTo(14_800 / 128_000, 6);
    // (128,000 − 14,800) steps × 18 s.
    expect(exp001.etaSeconds).toBe((128_000 - 14_800) * 18);
    expect(exp001.phases).toEqual([
      expect.objectContaining({ index: 1, name: "more workers", result: "passed", at: at(0, 16) }),
    ]);
    expect(exp001.alerts.fired).toBe(2);
    expect(exp001.alerts.byRule.map((g) => [g.rule, g.label, g.fired])).toEqual([
      ["cuda_oom", "CUDA OOM", 1],
      ["gpu_idle", "idle GPU", 1],
    ]);
    // The idle GPU resolved at 14:00; the OOM, a one-shot alert, ended with its notification.
    expect(exp001.alerts.resolved).toBe(2);
    expect(exp001.alerts.byRule.find((g) => g.rule === "gpu_idle")?.resolved).toBe(1);
    // Cost from the first poll (day 0 09:00) to the end of the span: 24 h at $32.77/h.
    expect(exp001.cost).toEqual({
      perHour: 32.77,
      currency: "USD",
      soFar: 786.48,
      toFinish: Math.round(((113_200 * 18) / 3600) * 32.77 * 100) / 100,
    });
    const exp002 = report.runs.find((r) => r.run === "exp002")!;
    expect(exp002).toMatchObject({ stepFrom: null, stepTo: null, cost: null });

    const text = renderText(digestMessage(report, { timeZone: "Europe/Berlin" }));
    expect(text).toContain("Digest: last 24.0 h, to 2026-12-08 10:00 CET");
    expect(text).toContain("2 runs · 2 alerts fired, 2 resolved · 1 phase result");
    expect(text).toContain("Steps: 10,000 → 14,800 of 128,000 (+4,800, 11.6% done)");
    expect(text).toContain("Speed: 200 steps/h (18 s/step), ETA 23.6 days (2027-01-01 00:00 CET)");
    expect(text).toContain("Phases: Phase 1 (more workers) passed");
    expect(text).toContain("Alerts: 2 fired, 2 resolved (CUDA OOM, idle GPU)");
    expect(text).toContain("Cost: $786 so far, $18,548 to finish at $32.77/h");
    expect(text).toContain("Steps: no poll with a step yet");
  });
});

describe("digest speed", () => {
  it("says how far the expected finish moved when the speed changed over the span", () => {
    h = alertHarness({ config: config({}), sinks: [channelSink()], startAt: at(0, 9) });
    // 12 h at 18 s a step (200 steps/h), then 12 h at 24 s (150 steps/h): a slower node.
    for (let i = 0; i <= 24; i++) {
      const slow = i > 12;
      const step = 10_000 + Math.min(i, 12) * 200 + Math.max(0, i - 12) * 150;
      h.samples.insert(
        runSample({
          at: at(0, 9 + i),
          step,
          stepTimeSeconds: slow ? 24 : 18,
          stepsPerHour: slow ? 150 : 200,
        }),
      );
    }
    const report = h.alerting.digest({ from: at(0, 9), to: at(1, 9) });
    const run = report.runs[0]!;
    // Finish at the start: 118,000 steps × 18 s after it; at the end: 113,800 × 24 s after it.
    expect(run.finishMovedSeconds).toBe(24 * 3600 + 113_800 * 24 - 118_000 * 18);
    const text = renderText(digestMessage(report));
    expect(text).toContain(
      "Speed: 150 steps/h (24 s/step), ETA 31.6 days (2027-01-08 23:40 UTC); finish 8.0 days later than at the span's start",
    );
  });
});

const digests = (sink: MemorySink) => sink.messages.filter((m) => m.title.startsWith("Digest"));

describe("digest schedule", () => {
  it("sends once per period at the channel's local time, across restarts", async () => {
    const sink = channelSink();
    const cfg = config({ digest: { at: "09:00" }, timezone: "Europe/Berlin" });
    h = alertHarness({ config: cfg, sinks: [sink], startAt: at(0, 6) });
    train(h, at(0, 6), at(0, 7, 50));
    // 07:50 UTC is 08:50 in Berlin: the schedule starts, nothing is due yet.
    await h.alerting.deliverDue();
    expect(digests(sink)).toEqual([]);
    train(h, at(0, 8), at(0, 8));
    h.clock.set(at(0, 8, 0) + 5_000);
    await h.alerting.deliverDue();
    expect(digests(sink)).toHaveLength(1);
    expect(digests(sink)[0]?.title).toBe("Digest: last 24.0 h, to 2026-12-07 09:00 CET");
    await h.alerting.deliverDue();
    h.restart();
    await h.alerting.deliverDue();
    expect(digests(sink)).toHaveLength(1);

    // Down over the next 09:00, back at 09:40: the missed digest goes once, on the restart.
    h.clock.set(at(1, 7, 55));
    await h.alerting.deliverDue();
    h.restart();
    h.clock.set(at(1, 8, 40));
    await h.alerting.deliverDue();
    await h.alerting.deliverDue();
    expect(digests(sink)).toHaveLength(2);
    expect(digests(sink)[1]?.footer).toBe("since 2026-12-07 09:00 CET");
    expect(sink.keys[0]).not.toBe(sink.keys[1]);
  });

  it("keeps to local time across a DST change: 09:00 CET, then 09:00 CEST 23 h later", async () => {
    const sink = channelSink();
    const cfg = config({ digest: { at: "09:00" }, timezone: "Europe/Berlin" });
    // Europe/Berlin moves its clocks forward on 2027-03-28 at 02:00.
    h = alertHarness({ config: cfg, sinks: [sink], startAt: Date.UTC(2027, 2, 27, 7) });
    await h.alerting.deliverDue();
    h.clock.set(Date.UTC(2027, 2, 27, 8));
    await h.alerting.deliverDue();
    h.clock.set(Date.UTC(2027, 2, 28, 6, 59));
    await h.alerting.deliverDue();
    h.clock.set(Date.UTC(2027, 2, 28, 7));
    await h.alerting.deliverDue();
    expect(digests(sink).map((m) => m.title)).toEqual([
      "Digest: last 24.0 h, to 2027-03-27 09:00 CET",
      "Digest: last 23.0 h, to 2027-03-28 09:00 CEST",
    ]);
  });

  it("a digest queued before a crash is delivered once after the restart", async () => {
    const flaky = new FlakySink("json-webhook:0", 1);
    const cfg = config({ digest: { cron: "30 9 * * 1-5" } });
    h = alertHarness({ config: cfg, sinks: [flaky], startAt: at(0, 9) });
    await h.alerting.deliverDue(); // Monday 09:00: the schedule starts at Friday's 09:30
    h.clock.set(at(0, 9, 30));
    await h.alerting.deliverDue(); // sealed, the first attempt fails
    expect(digests(flaky)).toEqual([]);
    h.restart();
    h.clock.set(at(0, 9, 45));
    await h.alerting.deliverDue();
    await h.alerting.deliverDue();
    expect(digests(flaky)).toHaveLength(1);
    // Cron's weekdays: nothing on Saturday and Sunday, the next one on Tuesday.
    h.clock.set(at(1, 9, 31));
    await h.alerting.deliverDue();
    expect(digests(flaky)).toHaveLength(2);
  });

  it("passes the channel's severity filter and covers only the digest's runs", async () => {
    const sink = channelSink();
    const cfg = config({ digest: { at: "09:00", runs: ["exp002"] }, severities: ["critical"] });
    const hook = cfg.alerts.webhooks[0]!;
    // The channel's filter as the configured sinks apply it.
    const filtered = new FilteredSink(sink, { severities: hook.severities!, runs: ["exp001"] });
    h = alertHarness({ config: cfg, sinks: [filtered], startAt: at(0, 8) });
    await h.alerting.deliverDue();
    h.clock.set(at(0, 9));
    await h.alerting.deliverDue();
    expect(digests(sink)).toHaveLength(1);
    expect(digests(sink)[0]?.fields?.map((f) => f.name)).toEqual(["exp002"]);
  });
});
