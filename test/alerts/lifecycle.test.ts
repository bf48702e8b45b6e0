import { afterEach, describe, expect, it } from "vitest";
import { SilenceError } from "../../src/alerts/alert-engine.ts";
import { createAlerting } from "../../src/alerts/create-alerting.ts";
import { ConfigError } from "../../src/config/config-error.ts";
import { openDatabase } from "../../src/store/database.ts";
import {
  type AlertHarness,
  alertHarness,
  GIB,
  MIN,
  sample,
  T0,
  testConfig,
} from "./alert-fixture.ts";

let h: AlertHarness;
afterEach(() => h?.close());

/** One sample per minute from the clock's time, the GPU at `util`%, training moving. */
function idleMinute(util: number): void {
  h.samples.insert(
    sample(h.clock.now(), {
      step: 500 + Math.round((h.clock.now() - T0) / MIN),
      gpus: [{ ...sample(0).gpus[0]!, utilizationPercent: util }],
    }),
  );
}

function minutes(n: number, util: number): void {
  for (let i = 0; i < n; i++) {
    h.clock.advance(MIN);
    idleMinute(util);
    h.alerting.evaluate("exp001");
  }
}

/**
 * `ms` after the clock's time, a poll that finds `freeGiB` of disk free; evaluates and delivers
 * what is due, and returns how many messages went out.
 */
async function diskPollAfter(ms: number, freeGiB: number): Promise<number> {
  h.clock.advance(ms);
  h.samples.insert(sample(h.clock.now(), { diskFreeBytes: freeGiB * GIB }));
  h.alerting.evaluate("exp001");
  return h.alerting.deliverDue();
}

/** A fresh harness whose first alert (disk almost full) goes out at once. */
async function firstAlertSent(): Promise<void> {
  h = alertHarness();
  h.samples.insert(sample(T0 - MIN, { diskFreeBytes: 2 * GIB }));
  h.alerting.evaluate("exp001");
  expect(await h.alerting.deliverDue()).toBe(1);
}

describe("lifecycle", () => {
  it("pending holds for `for:`, fires, repeats as 'still …', resolves with its duration", async () => {
    h = alertHarness({
      config: testConfig({ rules: { gpu_idle: { for: "5m", repeatInterval: "30m" } } }),
    });
    idleMinute(0);
    h.alerting.evaluate("exp001");
    minutes(4, 0);
    expect(h.alerting.listFiring("exp001")).toEqual([]);
    minutes(1, 0);
    expect(h.alerting.listFiring("exp001").map((a) => a.rule)).toEqual(["gpu_idle"]);
    await h.alerting.deliverDue();
    minutes(29, 0);
    await h.alerting.deliverDue();
    expect(h.sink.messages).toHaveLength(1);
    minutes(1, 0);
    h.clock.advance(5_000);
    await h.alerting.deliverDue();
    minutes(10, 80);
    h.clock.advance(5_000);
    await h.alerting.deliverDue();
    expect(h.sink.messages.map((m) => m.title)).toEqual([
      "exp001: GPU idle (0% utilisation) for 5 min",
      "exp001: still GPU idle (0% utilisation) for 35 min",
      "exp001: idle GPU resolved after 36 min",
    ]);
    expect(h.sink.messages[2]?.lines).toEqual(["GPU utilisation is back to 80%."]);
    expect(h.sink.messages[2]?.severity).toBe("success");
  });

  it("a blip above the threshold while pending starts the wait over", () => {
    h = alertHarness();
    minutes(6, 0);
    minutes(1, 50);
    minutes(9, 0);
    expect(h.alerting.listFiring("exp001")).toEqual([]);
    minutes(2, 0);
    expect(h.alerting.listFiring("exp001").map((a) => a.rule)).toEqual(["gpu_idle"]);
  });

  it("no fresh data (unreachable VM) keeps an alert as it is", async () => {
    h = alertHarness();
    minutes(11, 0);
    expect(h.alerting.listFiring("exp001")).toHaveLength(1);
    h.clock.advance(MIN);
    h.samples.insert({ ...sample(h.clock.now()), reachable: false, alive: null, gpus: [] });
    const report = h.alerting.evaluate("exp001");
    expect(report.resolved).toEqual([]);
    expect(h.alerting.listFiring("exp001").map((a) => a.rule)).toEqual(["gpu_idle"]);
  });

  it("mentions per severity from config and the rule's own list", async () => {
    const config = testConfig(
      { rules: { cuda_oom: { mention: ["<@&555555555555>"] } } },
      {
        discord: { mentions: { critical: ["111111111111", "role:222222222222"] } },
        slack: { mentions: { critical: ["U0123ABCD", "subteam:S0456EFGH"] } },
      },
    );
    h = alertHarness({ config });
    h.samples.insert(sample(T0 - MIN));
    h.addEvent(T0, { kind: "cuda_oom", line: "CUDA out of memory" });
    h.alerting.evaluate("exp001");
    await h.alerting.deliverDue();
    expect(h.sink.messages[0]?.mentions).toEqual({
      users: ["111111111111", "U0123ABCD"],
      roles: ["222222222222", "S0456EFGH", "555555555555"],
    });
  });
});

describe("grouping", () => {
  it("alerts found together go as one message", async () => {
    h = alertHarness();
    h.samples.insert(sample(T0 - MIN));
    h.addEvent(T0 - 3000, {
      kind: "worker_killed",
      line: "RuntimeError: DataLoader worker (pid 77) is killed by signal: Killed.",
    });
    h.addEvent(T0 - 2000, {
      kind: "host_oom_kill",
      source: "kernel",
      line: "Out of memory: Killed process 77 (pt_data_worker)",
    });
    h.alerting.evaluate("exp001");
    await h.alerting.deliverDue();
    expect(h.sink.messages).toHaveLength(1);
    const m = h.sink.messages[0]!;
    expect(m.title).toBe(
      "exp001: 2 alerts (host out of memory: the kernel killed a process and more)",
    );
    expect(m.lines?.slice(0, 2)).toEqual([
      expect.stringContaining("• exp001: host out of memory"),
      expect.stringContaining("• exp001: a data-loader worker was killed"),
    ]);
    expect(m.code).toContain("Out of memory: Killed process 77");
    expect(m.code).toContain("DataLoader worker (pid 77)");
    // Each alert of the group can be muted from it, and each Mute names its alert.
    expect(m.buttons?.map((b) => b.label)).toEqual([
      "Mute host OOM kill 1 h",
      "Mute host OOM kill 8 h",
      "Mute killed worker 1 h",
      "Mute killed worker 8 h",
      "Logs",
      "Status",
    ]);
  });

  it("the first alert goes at once; a burst right after it waits for the window and goes as one", async () => {
    await firstAlertSent();
    // Two warnings right after it: each waits for the run's group window.
    expect(await diskPollAfter(1000, 500)).toBe(0);
    expect(await diskPollAfter(1000, 1)).toBe(0);
    h.clock.advance(3000);
    expect(await h.alerting.deliverDue()).toBe(1);
    expect(h.sink.messages).toHaveLength(2);
    expect(h.sink.messages[1]?.title).toMatch(/^exp001: 2 alerts/);
  });

  it("a critical alert skips the group window and takes what waits along", async () => {
    await firstAlertSent();
    expect(await diskPollAfter(1000, 500)).toBe(0);
    h.clock.advance(500);
    h.addEvent(h.clock.now(), { kind: "cuda_oom", line: "CUDA out of memory" });
    h.alerting.evaluate("exp001");
    // Still inside the window opened by the first message: goes now all the same.
    expect(await h.alerting.deliverDue()).toBe(1);
    const titles = h.sink.messages.map((m) => m.title);
    expect(titles).toHaveLength(2);
    expect(titles[1]).toBe("exp001: 2 alerts (CUDA out of memory and more)");
    h.clock.advance(500);
    h.addEvent(h.clock.now(), { kind: "nan_loss", line: "loss=nan" });
    h.alerting.evaluate("exp001");
    expect(await h.alerting.deliverDue()).toBe(1);
    expect(h.sink.messages).toHaveLength(3);
  });
});

describe("silences", () => {
  it("mute a rule of a run: no message while silenced; expiry is announced and the alert follows", async () => {
    h = alertHarness();
    const silence = h.alerting.silence({
      run: "exp001",
      rule: "gpu_idle",
      durationMs: 60 * MIN,
      reason: "testing the loader",
      by: "cli:dylan",
    });
    minutes(20, 0);
    await h.alerting.deliverDue();
    expect(h.sink.messages).toEqual([]);
    expect(h.alerting.listFiring("exp001")).toEqual([
      expect.objectContaining({ rule: "gpu_idle", silenced: true }),
    ]);
    expect(h.alerting.listSilences("exp001").map((s) => s.id)).toEqual([silence.id]);
    expect(h.alerting.listSilences("exp002")).toEqual([]);
    minutes(40, 0);
    await h.alerting.deliverDue();
    expect(h.sink.messages.map((m) => m.title)).toEqual([
      "exp001: 2 alerts (GPU idle (0% utilisation) for 59 min and more)",
    ]);
    expect(h.sink.messages[0]?.lines?.join("\n")).toContain("• Silence on exp001/gpu_idle expired");
    expect(h.alerting.listSilences("exp001")).toEqual([]);
  });

  it("a silence expires by itself even with no evaluation, once", async () => {
    h = alertHarness();
    h.alerting.silence({ rule: "disk_low", durationMs: 10 * MIN, reason: "disk being resized" });
    h.clock.advance(11 * MIN);
    await h.alerting.deliverDue();
    await h.alerting.deliverDue();
    expect(h.sink.messages.map((m) => m.title)).toEqual(["Silence on disk_low (all runs) expired"]);
    expect(h.sink.messages[0]?.lines?.[0]).toBe("It was set because: disk being resized.");
  });

  it("a silence on a whole run mutes every rule of it, and lifting it says so", async () => {
    h = alertHarness();
    const s = h.alerting.silence({ run: "exp001", durationMs: 60 * MIN, reason: "maintenance" });
    h.samples.insert(sample(T0 - MIN, { diskFreeBytes: GIB }));
    h.alerting.evaluate("exp001");
    await h.alerting.deliverDue();
    expect(h.sink.messages).toEqual([]);
    expect(h.alerting.unsilence(s.id)?.endReason).toBe("lifted");
    expect(h.alerting.unsilence(s.id)).toBeNull();
    h.alerting.evaluate("exp001");
    await h.alerting.deliverDue();
    expect(h.sink.messages[0]?.title).toBe(
      "exp001: 2 alerts (disk almost full: 1.0 GiB free and more)",
    );
  });

  it("refuses silences that name nothing, unknown rules or runs, or no reason", () => {
    h = alertHarness();
    expect(() => h.alerting.silence({ durationMs: MIN, reason: "x" })).toThrow(SilenceError);
    expect(() => h.alerting.silence({ rule: "gpu_idel", durationMs: MIN, reason: "x" })).toThrow(
      /no rule named 'gpu_idel'/,
    );
    expect(() => h.alerting.silence({ run: "exp9", durationMs: MIN, reason: "x" })).toThrow(
      /no run named 'exp9'; runs: exp001, exp002/,
    );
    expect(() => h.alerting.silence({ run: "exp001", durationMs: MIN, reason: " " })).toThrow(
      /reason/,
    );
    expect(() => h.alerting.silence({ run: "exp001", durationMs: 0, reason: "x" })).toThrow(
      /positive duration/,
    );
  });
});

describe("dedupe", () => {
  it("one alert per rule + run + phase across a restart on the same file", async () => {
    h = alertHarness();
    h.samples.insert(sample(T0 - MIN));
    h.addEvent(T0, { kind: "cuda_oom", line: "CUDA out of memory" });
    h.alerting.evaluate("exp001");
    await h.alerting.deliverDue();
    h.restart();
    h.clock.advance(MIN);
    h.alerting.evaluate("exp001");
    await h.alerting.deliverDue();
    h.restart();
    h.clock.advance(MIN);
    h.alerting.evaluate("exp001");
    await h.alerting.deliverDue();
    expect(h.sink.messages).toHaveLength(1);
    expect(h.alerting.backlog()).toBe(0);
    expect(h.alerting.listFiring("exp001").map((a) => a.rule)).toEqual(["cuda_oom"]);
  });

  it("a new phase is a new dedupe key: the condition alerts again in it", async () => {
    h = alertHarness();
    h.phase.value = "1";
    minutes(11, 0);
    h.phase.value = "2";
    minutes(11, 0);
    h.clock.advance(10_000);
    await h.alerting.deliverDue();
    const firing = h.alerting.listFiring("exp001");
    expect(firing).toEqual([expect.objectContaining({ rule: "gpu_idle", phase: "2" })]);
  });
});

describe("rule settings", () => {
  it("a bad setting names its key path", () => {
    const db = openDatabase(":memory:");
    const make = (rules: Record<string, unknown>) => () =>
      createAlerting({ db, config: testConfig({ rules }), clock: { now: () => T0 }, sinks: [] });
    expect(make({ stalled: { floor: 5 } })).toThrow(ConfigError);
    expect(make({ stalled: { floor: "5 minutes" } })).toThrow(
      /alerts\.rules\.stalled\.floor: expected a duration like 30s, 10m/,
    );
    expect(make({ stalled: { flor: "5m" } })).toThrow(
      /alerts\.rules\.stalled: unknown setting flor/,
    );
    expect(make({ stalls: {} })).toThrow(
      /alerts\.rules\.stalls: no such rule; known rules: cuda_oom/,
    );
    expect(make({ gpu_idle: { belowPercent: 150 } })).toThrow(
      /alerts\.rules\.gpu_idle\.belowPercent/,
    );
    expect(make({ gpu_idle: { enabled: false }, stalled: { floor: "20m", k: 5 } })).not.toThrow();
    db.close();
  });

  it("a disabled rule never fires", () => {
    h = alertHarness({ config: testConfig({ rules: { disk_low: { enabled: false } } }) });
    h.samples.insert(sample(T0 - MIN, { diskFreeBytes: GIB }));
    expect(h.alerting.evaluate("exp001").fired).toEqual([]);
  });
});

describe("retention", () => {
  it("prune forgets delivered messages and resolved alerts, never what is still owed", async () => {
    h = alertHarness();
    h.samples.insert(sample(T0 - MIN, { diskFreeBytes: GIB }));
    h.alerting.evaluate("exp001");
    await h.alerting.deliverDue();
    h.clock.advance(MIN);
    h.samples.insert(sample(h.clock.now()));
    h.alerting.evaluate("exp001");
    expect(h.alerting.prune(h.clock.now() + 1)).toEqual({ batches: 1, alerts: 0 });
    h.clock.advance(MIN);
    await h.alerting.deliverDue();
    expect(h.sink.messages.map((m) => m.title)).toEqual([
      "exp001: disk almost full: 1.0 GiB free",
      "exp001: low disk resolved after 1 min",
    ]);
    expect(h.alerting.prune(h.clock.now() + 1)).toEqual({ batches: 1, alerts: 1 });
    expect(h.alerting.backlog()).toBe(0);
  });
});
