import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.ts";
import type { RunSample } from "../../src/model/monitoring.ts";
import { housekeep, startHousekeeping } from "../../src/runtime/housekeeping.ts";
import { type Db, openDatabase } from "../../src/store/database.ts";
import { createMonitorStore, type MonitorStore } from "../../src/store/monitor-store.ts";

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1);
let dir: string;
let db: Db;
let store: MonitorStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "trainops-rollup-"));
  db = openDatabase(join(dir, "t.db"));
  store = createMonitorStore(db);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function sample(run: string, at: number, i: number): RunSample {
  return {
    run,
    at,
    reachable: true,
    alive: true,
    step: i,
    totalSteps: 100_000,
    epoch: 1,
    loss: 0.5,
    stepTimeSeconds: 10 + (i % 7),
    stepsPerHour: 3600 / (10 + (i % 7)),
    etaSeconds: null,
    epochEtaSeconds: null,
    gpus: [
      {
        index: 0,
        name: "A100",
        memoryUsedMiB: 70_000 + (i % 13) * 100,
        memoryTotalMiB: 81_920,
        utilizationPercent: i % 3 === 0 ? null : 50 + (i % 50),
        temperatureC: null,
        powerW: null,
      },
    ],
    hostMemory: { usedBytes: 2 ** 30 * (10 + (i % 5)), totalBytes: 2 ** 37 },
    workers: { count: 2, rssBytes: 2 ** 30 },
    trainerRssBytes: null,
    diskFreeBytes: null,
  };
}

/** `hours` hours of one sample every 10 s from T0. */
function fill(run: string, hours: number): number {
  const n = (hours * HOUR) / 10_000;
  return store.samples.insertMany(
    Array.from({ length: n }, (_, i) => sample(run, T0 + i * 10_000, i)),
  );
}

function rawCount(run: string): number {
  return (db.prepare("SELECT COUNT(*) AS n FROM samples WHERE run = ?").get(run) as { n: number })
    .n;
}

const METRICS = [
  "step",
  "step_time_s",
  "gpu_mem_used_mib",
  "gpu_util_pct",
  "host_used_bytes",
] as const;

describe("sample roll-ups", () => {
  it("rolls whole hours past the cutoff into minute and hour rows; charts read the same values", () => {
    fill("exp001", 3);
    fill("exp002", 3);
    const before = {
      hourly: store.samples.seriesMany("exp001", METRICS, T0, T0 + 3 * HOUR, 3),
      minutes: store.samples.seriesMany("exp001", METRICS, T0, T0 + 3 * HOUR, 180),
    };
    // Cutoff mid-hour: only the two whole hours before it go.
    expect(store.sampleRollups.rollUp("exp001", T0 + 2.5 * HOUR)).toBe(720);
    expect(rawCount("exp001")).toBe(360);
    expect(rawCount("exp002")).toBe(1080);
    expect(store.samples.range("exp001", T0, T0 + 3 * HOUR)[0]?.at).toBe(T0 + 2 * HOUR);
    expect(store.samples.firstAt("exp001")).toBe(T0);

    const after = {
      hourly: store.samples.seriesMany("exp001", METRICS, T0, T0 + 3 * HOUR, 3),
      minutes: store.samples.seriesMany("exp001", METRICS, T0, T0 + 3 * HOUR, 180),
    };
    for (const width of ["hourly", "minutes"] as const) {
      for (const metric of METRICS) {
        const was = before[width][metric] ?? [];
        const now = after[width][metric] ?? [];
        expect(
          now.map((p) => p.at),
          `${width} ${metric}`,
        ).toEqual(was.map((p) => p.at));
        if (metric === "step") {
          // A roll-up keeps a bucket's highest step, not its average.
          const last = now[0]?.value ?? 0;
          expect(last).toBeGreaterThanOrEqual(was[0]?.value ?? 0);
          continue;
        }
        now.forEach((p, i) => {
          expect(p.value, `${width} ${metric} #${i}`).toBeCloseTo(was[i]?.value ?? Number.NaN, 6);
        });
      }
    }
    // Nothing left to roll up before the cutoff.
    expect(store.sampleRollups.rollUp("exp001", T0 + 2.5 * HOUR)).toBe(0);
  });

  it("catches up a bounded number of hours per call", () => {
    fill("exp001", 4);
    expect(store.sampleRollups.rollUp("exp001", T0 + 4 * HOUR, 1)).toBe(360);
    expect(store.sampleRollups.rollUp("exp001", T0 + 4 * HOUR, 2)).toBe(720);
    expect(store.sampleRollups.rollUp("exp001", T0 + 4 * HOUR, 2)).toBe(360);
    expect(store.sampleRollups.rollUp("exp001", T0 + 4 * HOUR, 2)).toBe(0);
    expect(rawCount("exp001")).toBe(0);
    const hours = store.samples.seriesMany("exp001", ["step"], T0, T0 + 4 * HOUR, 4).step;
    expect(hours?.map((p) => p.value)).toEqual([359, 719, 1079, 1439]);
  });

  it("retention prunes roll-ups too", () => {
    fill("exp001", 2);
    store.sampleRollups.rollUp("exp001", T0 + 2 * HOUR);
    expect(store.samples.firstAt("exp001")).toBe(T0);
    const round = (now: number) =>
      housekeep({
        clock: new ManualClock(now),
        retentionMs: 24 * HOUR,
        store,
        alerting: { prune: () => ({ batches: 0, alerts: 0 }) },
        core: { expireConfirmations: () => 0 },
      });
    round(T0 + 25 * HOUR);
    expect(store.samples.firstAt("exp001")).toBe(T0 + HOUR);
    round(T0 + 26 * HOUR);
    expect(store.samples.firstAt("exp001")).toBeNull();
  });

  it("housekeeping rolls up past the raw window and drops old step points and poll records", async () => {
    fill("exp001", 3);
    for (let h = 0; h < 3; h++) {
      store.steps.insert("exp001", {
        at: T0 + h * HOUR,
        step: h,
        total: null,
        epoch: null,
        loss: null,
        stepTime: null,
      });
      store.polls.insert({
        run: "exp001",
        startedAt: T0 + h * HOUR,
        durationMs: 10,
        outcome: "ok",
        message: null,
      });
    }
    const clock = new ManualClock(T0 + 3 * HOUR);
    const stop = startHousekeeping({
      clock,
      retentionMs: 90 * 24 * HOUR,
      rawMs: 1.5 * HOUR,
      runs: () => ["exp001"],
      store,
      alerting: { prune: () => 0 },
      core: { expireConfirmations: () => 0 },
      everyMs: 5,
    } as unknown as Parameters<typeof startHousekeeping>[0]);
    try {
      const deadline = Date.now() + 10_000;
      while (rawCount("exp001") > 720 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } finally {
      stop();
    }
    // The raw window reaches back 1.5 h: the first whole hour is rolled up, the rest stays.
    expect(rawCount("exp001")).toBe(720);
    expect(store.steps.recent("exp001").map((s) => s.step)).toEqual([2]);
    expect(store.polls.recent("exp001", 10)).toHaveLength(1);
  });
});
