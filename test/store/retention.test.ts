import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.ts";
import { housekeep } from "../../src/runtime/housekeeping.ts";
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

/** One sample a minute for `minutes` minutes from T0, for each run. */
function fill(runs: readonly string[], minutes: number): void {
  store.samples.insertMany(
    runs.flatMap((run) =>
      Array.from({ length: minutes }, (_, i) => runSample({ run, at: T0 + i * MIN, step: i })),
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
});
