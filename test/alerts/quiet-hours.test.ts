import { afterEach, describe, expect, it } from "vitest";
import { type Config, configSchema } from "../../src/config/schema.ts";
import { openDatabase } from "../../src/store/database.ts";
import { runSample } from "../harness/sample-factory.ts";
import { type AlertHarness, alertHarness, FlakySink, MemorySink } from "./alert-fixture.ts";

const MIN = 60_000;
/** 2026-12-07 (a Monday) 00:00 UTC; Berlin is UTC+1 in December. */
const DAY0 = Date.UTC(2026, 11, 7);
/** `hour:minute` Berlin time on day `day` after DAY0. */
const berlin = (day: number, hour: number, minute = 0) =>
  DAY0 + day * 86_400_000 + (hour - 1) * 3_600_000 + minute * MIN;

let h: AlertHarness | undefined;
afterEach(() => h?.close());

function config(quietHours: unknown[]): Config {
  return configSchema.parse({
    runs: [
      { name: "exp001", ssh: "local", workdir: "/tmp/w1", log: "train.log" },
      { name: "exp002", ssh: "local", workdir: "/tmp/w2", log: "train.log" },
    ],
    alerts: {
      console: false,
      webhooks: [
        { kind: "json", url: "http://127.0.0.1:9/quiet", quietHours, timezone: "Europe/Berlin" },
      ],
      rules: { gpu_idle: { for: "2m", repeatInterval: "0m" } },
    },
    discord: { mentions: { critical: ["111111"], warning: ["222222"] } },
  });
}

/** One poll of `run` at the clock's time with its GPU at `util`%, then the rules. */
function poll(harness: AlertHarness, run: string, util: number): void {
  harness.samples.insert(
    runSample({
      run,
      at: harness.clock.now(),
      step: 500 + (Math.round(harness.clock.now() / MIN) % 1000),
      gpus: [{ ...runSample({ at: 0 }).gpus[0]!, utilizationPercent: util }],
    }),
  );
  harness.alerting.evaluate(run);
}

/** Polls `run` once a minute for `minutes`, the GPU at `util`%. */
function minutes(harness: AlertHarness, run: string, n: number, util: number): void {
  for (let i = 0; i < n; i++) {
    harness.clock.advance(MIN);
    poll(harness, run, util);
  }
}

const titles = (sink: MemorySink) => sink.messages.map((m) => m.title);

describe("quiet hours", () => {
  it("hold all but critical alerts until the window ends, then send them as one message", async () => {
    const quiet = new MemorySink("json-webhook:0");
    const loud = new MemorySink("console");
    h = alertHarness({
      config: config([{ from: "22:00", to: "07:00" }]),
      sinks: [quiet, loud],
      startAt: berlin(0, 22, 30),
    });
    // 22:30: exp001's GPU idles and, in the same round, the run hits a CUDA OOM.
    poll(h, "exp001", 0);
    minutes(h, "exp001", 2, 0);
    h.addEvent(h.clock.now(), {
      kind: "cuda_oom",
      line: "torch.OutOfMemoryError: CUDA out of memory",
    });
    h.alerting.evaluate("exp001");
    await h.alerting.deliverDue();
    // The channel without quiet hours gets both at once; the quiet one only the OOM, with its ping.
    expect(loud.messages).toHaveLength(1);
    expect(loud.messages[0]?.alerts?.map((a) => a.rule).sort()).toEqual(["cuda_oom", "gpu_idle"]);
    expect(quiet.messages).toHaveLength(1);
    expect(quiet.messages[0]?.alerts?.map((a) => a.rule)).toEqual(["cuda_oom"]);
    expect(quiet.messages[0]?.mentions?.users).toEqual(["111111"]);

    // The daemon restarts in the night; exp001's GPU is busy again at 23:30, exp002's idles.
    h.restart();
    h.clock.set(berlin(0, 23, 30));
    poll(h, "exp001", 85);
    poll(h, "exp002", 0);
    minutes(h, "exp002", 3, 0);
    await h.alerting.deliverDue();
    expect(quiet.messages).toHaveLength(1);
    expect(loud.messages.length).toBeGreaterThan(1);

    // 06:59 the next morning: still quiet; the pass ends and nothing more went out.
    h.clock.set(berlin(1, 6, 59));
    h.restart();
    await h.alerting.deliverDue();
    expect(quiet.messages).toHaveLength(1);

    // 07:00: what waited goes as one message, the resolved idle marked so.
    h.clock.set(berlin(1, 7, 0));
    await h.alerting.deliverDue();
    expect(quiet.messages).toHaveLength(2);
    const summary = quiet.messages[1]!;
    expect(summary.title).toBe("Quiet hours over: 2 held, 1 resolved meanwhile, 1 still firing");
    expect(summary.severity).toBe("warning");
    const lines = summary.lines!.join("\n");
    expect(lines).toMatch(
      /• exp001: GPU idle.*\(since 22:3\d CET\) — resolved meanwhile \(23:30 CET\)/,
    );
    expect(lines).toMatch(/• exp002: GPU idle.*\(since 23:3\d CET\)\n/);
    expect(lines).not.toContain("CUDA");
    // Still firing, so its ping goes with it; the incident sinks get every held notice.
    expect(summary.mentions?.users).toEqual(["222222"]);
    expect(summary.alerts?.map((a) => `${a.run}/${a.rule}/${a.status}`)).toEqual([
      "exp001/gpu_idle/firing",
      "exp001/gpu_idle/resolved",
      "exp002/gpu_idle/firing",
    ]);

    // Once only: more passes and a restart send nothing again.
    await h.alerting.deliverDue();
    h.restart();
    await h.alerting.deliverDue();
    expect(titles(quiet)).toHaveLength(2);
    expect(h.alerting.backlog()).toBe(0);
  });

  it("split a batch once: a failed send of its critical part and a restart hold nothing twice", async () => {
    const quiet = new FlakySink("json-webhook:0", 1);
    h = alertHarness({
      config: config([{ from: "22:00", to: "07:00" }]),
      sinks: [quiet],
      startAt: berlin(0, 23),
    });
    poll(h, "exp001", 0);
    minutes(h, "exp001", 2, 0);
    h.addEvent(h.clock.now(), { kind: "cuda_oom", line: "CUDA out of memory" });
    h.alerting.evaluate("exp001");
    await h.alerting.deliverDue(); // the idle GPU is held, the OOM's send fails
    expect(quiet.messages).toEqual([]);
    h.restart();
    h.clock.advance(60_000);
    await h.alerting.deliverDue(); // the OOM alone goes
    expect(quiet.messages.map((m) => m.alerts?.map((a) => a.rule))).toEqual([["cuda_oom"]]);
    h.clock.set(berlin(1, 7));
    await h.alerting.deliverDue();
    await h.alerting.deliverDue();
    expect(quiet.messages).toHaveLength(2);
    expect(quiet.messages[1]?.title).toBe("Quiet hours over: 1 held, 1 still firing");
    expect(quiet.messages[1]?.alerts?.map((a) => a.rule)).toEqual(["gpu_idle"]);
  });

  it("keep to their days: a weekend window does not hold a Monday night's alert", async () => {
    const quiet = new MemorySink("json-webhook:0");
    h = alertHarness({
      config: config([{ from: "22:00", to: "07:00", days: ["fri", "sat"] }]),
      sinks: [quiet],
      startAt: berlin(0, 23),
    });
    poll(h, "exp001", 0);
    minutes(h, "exp001", 2, 0);
    await h.alerting.deliverDue();
    expect(quiet.messages.map((m) => m.alerts?.[0]?.rule)).toEqual(["gpu_idle"]);
  });

  it("hold what waits in the store: a sink that was down gets the summary after the restart", async () => {
    const cfg = config([{ from: "00:00", to: "06:00" }]);
    const quiet = new MemorySink("json-webhook:0");
    h = alertHarness({ config: cfg, sinks: [quiet], startAt: berlin(0, 1) });
    poll(h, "exp001", 0);
    minutes(h, "exp001", 2, 0);
    await h.alerting.deliverDue();
    expect(quiet.messages).toEqual([]);
    const db = openDatabase(h.path);
    const waiting = db
      .prepare("SELECT sink, not_before FROM quiet_held WHERE released_batch_id IS NULL")
      .all();
    db.close();
    expect(waiting).toEqual([{ sink: "json-webhook:0", not_before: berlin(0, 6) }]);
    h.restart();
    h.clock.set(berlin(0, 9));
    await h.alerting.deliverDue();
    expect(quiet.messages).toHaveLength(1);
    expect(quiet.messages[0]?.title).toBe("Quiet hours over: 1 held, 1 still firing");
  });
});
