import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.ts";
import { housekeep, ROLLED_UP_PER_ROUND } from "../../src/runtime/housekeeping.ts";
import { type Db, openDatabase } from "../../src/store/database.ts";
import { createMonitorStore, type MonitorStore } from "../../src/store/monitor-store.ts";
import { runSample } from "../harness/sample-factory.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 0, 1);
let dir: string;
let db: Db;
let store: MonitorStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "trainops-retention-"));
  db = openDatabase(join(dir, "t.db"));
  store = createMonitorStore(db);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One sample every `every` ms (a minute) for `minutes` minutes from T0, for each run. */
function fill(runs: readonly string[], minutes: number, every = MIN): void {
  const n = (minutes * MIN) / every;
  store.samples.insertMany(
    runs.flatMap((run) =>
      Array.from({ length: n }, (_, i) => runSample({ run, at: T0 + i * every, step: i })),
    ),
  );
}

const count = (table: string, run?: string) =>
  (
    db
      .prepare(`SELECT COUNT(*) AS n FROM ${table}${run ? " WHERE run = ?" : ""}`)
      .get(...(run ? [run] : [])) as { n: number }
  ).n;

const round = (now: number, options: { retentionMs: number; rawMs?: number; runs?: string[] }) =>
  housekeep({
    clock: new ManualClock(now),
    retentionMs: options.retentionMs,
    ...(options.rawMs !== undefined ? { rawMs: options.rawMs } : {}),
    runs: () => options.runs ?? [],
    store,
    alerting: { prune: () => ({ batches: 0, alerts: 0 }) },
    core: { expireConfirmations: () => 0 },
  });

describe("retention", () => {
  it("deletes at most the limit a call, oldest first across runs, and the next calls go on", () => {
    fill(["exp001", "exp002", "exp003"], 100);
    expect(store.samples.runs()).toEqual(["exp001", "exp002", "exp003"]);
    const before = T0 + 60 * MIN;
    expect(store.samples.prune(before, 50)).toBe(50);
    // The first run's 50 oldest went; nothing newer than them.
    expect(store.samples.firstAt("exp001")).toBe(T0 + 50 * MIN);
    expect(count("samples", "exp002")).toBe(100);
    expect(store.samples.prune(before, 50)).toBe(50);
    expect(store.samples.firstAt("exp001")).toBe(T0 + 60 * MIN);
    expect(store.samples.firstAt("exp002")).toBe(T0 + 40 * MIN);
    expect(store.samples.prune(before, 1000)).toBe(80);
    expect(store.samples.prune(before, 1000)).toBe(0);
    for (const run of ["exp001", "exp002", "exp003"]) {
      expect(store.samples.firstAt(run)).toBe(before);
      expect(count("samples", run)).toBe(40);
    }
  });

  it("rows that share the time where a call stops go together, so a call always gets past them", () => {
    store.samples.insertMany(
      [0, 0, 0, 1, 2].map((m, i) => runSample({ run: "exp001", at: T0 + m * MIN, step: i })),
    );
    expect(store.samples.prune(T0 + 10 * MIN, 2)).toBe(3);
    expect(store.samples.firstAt("exp001")).toBe(T0 + MIN);
  });

  it("roll-ups go run by run within the limit too", () => {
    fill(["exp001", "exp002"], 180);
    store.sampleRollups.rollUp("exp001", T0 + 3 * HOUR);
    store.sampleRollups.rollUp("exp002", T0 + 3 * HOUR);
    expect(count("samples_1m")).toBe(360);
    expect(count("samples_1h")).toBe(6);
    // Per table: 100 per-minute rows, and all 6 hourly rows (within the same limit).
    expect(store.sampleRollups.prune(T0 + 3 * HOUR, 100)).toBe(106);
    expect(count("samples_1m", "exp001")).toBe(80);
    expect(count("samples_1m", "exp002")).toBe(180);
    expect(store.sampleRollups.prune(T0 + 3 * HOUR, 1000)).toBe(260);
    expect(store.samples.firstAt("exp001")).toBeNull();
  });

  it("housekeeping rolls up the raw samples of runs no longer configured", () => {
    fill(["exp001", "gone"], 180);
    round(T0 + 3 * HOUR, { retentionMs: 90 * 24 * HOUR, rawMs: HOUR, runs: ["exp001"] });
    expect(count("samples", "exp001")).toBe(60);
    expect(count("samples", "gone")).toBe(60);
    expect(count("samples_1h", "gone")).toBe(2);
  });

  it("a round rolls up a bounded number of samples over all runs; the next rounds go on", () => {
    // Four runs of 25 hours of a sample every 10 s, the first 24 hours past the raw window: a
    // run's call rolls up 8,640, so two runs' worth pass the round's budget and the others wait.
    expect(ROLLED_UP_PER_ROUND).toBeGreaterThan(8640);
    expect(ROLLED_UP_PER_ROUND).toBeLessThan(2 * 8640);
    const runs = ["exp001", "exp002", "exp003", "exp004"];
    fill(runs, 25 * 60, 10_000);
    const now = T0 + 25 * HOUR;
    const options = { retentionMs: 90 * 24 * HOUR, rawMs: HOUR, runs };
    round(now, options);
    expect(runs.map((run) => count("samples", run))).toEqual([360, 360, 9000, 9000]);
    round(now, options);
    expect(runs.map((run) => count("samples", run))).toEqual([360, 360, 360, 360]);
    expect(count("samples_1h")).toBe(4 * 24);
  });

  it("samples already past retention are deleted, not rolled up", () => {
    fill(["exp001"], 6 * 60);
    // Retention 2 hours, raw window 1 hour, at 6 h: hours 0-3 go, hour 4 is rolled up.
    round(T0 + 6 * HOUR, { retentionMs: 2 * HOUR, rawMs: HOUR, runs: ["exp001"] });
    expect(count("samples", "exp001")).toBe(60);
    expect(
      (db.prepare("SELECT at FROM samples_1h").all() as Array<{ at: number }>).map(
        (r) => (r.at - T0) / HOUR,
      ),
    ).toEqual([4]);
    expect(count("samples_1m")).toBe(60);
  });
});
