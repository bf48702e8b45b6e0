import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GpuSample, RunSample } from "../../src/model/monitoring.ts";
import { type Db, openDatabase } from "../../src/store/database.ts";
import { createMonitorStore, type MonitorStore } from "../../src/store/monitor-store.ts";
import { STEPS_KEPT_PER_RUN } from "../../src/store/steps-repo.ts";

const T0 = Date.UTC(2026, 0, 1);
const S = 1000;
let dir: string;
let db: Db;
let store: MonitorStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "trainops-compact-"));
  db = openDatabase(join(dir, "t.db"));
  store = createMonitorStore(db);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const GPUS: GpuSample[] = [0, 1].map((index) => ({
  index,
  name: "NVIDIA H100 80GB HBM3",
  memoryUsedMiB: 70_000 + index,
  memoryTotalMiB: 81_559,
  utilizationPercent: 97,
  temperatureC: 61,
  powerW: 612.4,
  uuid: `GPU-${index}aa`,
  node: "gpu-node-1",
}));

function sample(at: number, step: number, over: Partial<RunSample> = {}): RunSample {
  return {
    run: "exp001",
    at,
    reachable: true,
    alive: true,
    step,
    totalSteps: 128_000,
    epoch: null,
    loss: 0.42,
    stepTimeSeconds: 1.25,
    stepsPerHour: 2880,
    etaSeconds: 3600,
    epochEtaSeconds: 600,
    gpus: GPUS,
    hostMemory: { usedBytes: 2 ** 33, totalBytes: 2 ** 37 },
    workers: { count: 4, rssBytes: 2 ** 31 },
    trainerRssBytes: 2 ** 32,
    diskFreeBytes: 2 ** 40,
    ...over,
  };
}

const history = () =>
  (
    db.prepare("SELECT at FROM samples WHERE run = 'exp001' ORDER BY at").all() as Array<{
      at: number;
    }>
  ).map((r) => (r.at - T0) / S);

describe("samples: at most one per sampleEvery in the history, the newest always read", () => {
  it("keeps one 5-s poll in six at sampleEvery 30 s; every read still ends with the newest", () => {
    for (let i = 0; i <= 13; i++) store.samples.record(sample(T0 + i * 5 * S, i), 30 * S);
    expect(history()).toEqual([0, 30, 60]);
    // Status and the rules see the 65-s poll, which the history did not keep.
    expect(store.samples.latest("exp001")).toEqual(sample(T0 + 65 * S, 13));
    expect(store.samples.latestReachable("exp001")?.step).toBe(13);
    const window = store.samples.range("exp001", T0, T0 + 100 * S);
    expect(window.map((x) => x.step)).toEqual([0, 6, 12, 13]);
    expect(window.at(-1)).toEqual(sample(T0 + 65 * S, 13));
    // A window that ends before the newest does not get it.
    expect(store.samples.range("exp001", T0, T0 + 65 * S).map((x) => x.step)).toEqual([0, 6, 12]);
    // Charts: the newest is the last point.
    const steps = store.samples.series("exp001", "step", T0, T0 + 70 * S, 14);
    expect(steps.at(-1)).toEqual({ at: T0 + 65 * S, value: 13 });
  });

  it("keeps each failed poll and both sides of a change of state, so counts and edges are exact", () => {
    const polls = [
      sample(T0, 1),
      sample(T0 + 5 * S, 2),
      sample(T0 + 10 * S, 3), // the last reachable one: kept when the next changes state
      sample(T0 + 15 * S, 3, { reachable: false, alive: null, step: null, gpus: [] }),
      sample(T0 + 20 * S, 3, { reachable: false, alive: null, step: null, gpus: [] }),
      sample(T0 + 25 * S, 3, { reachable: false, alive: null, step: null, gpus: [] }),
      sample(T0 + 30 * S, 4),
      sample(T0 + 35 * S, 5),
      sample(T0 + 40 * S, 5, { alive: false }), // the process died
      sample(T0 + 45 * S, 5, { alive: false }),
    ];
    const kept = polls.map((p) => store.samples.record(p, 30 * S));
    expect(kept).toEqual([true, false, false, true, true, true, true, false, true, false]);
    expect(history()).toEqual([0, 10, 15, 20, 25, 30, 35, 40]);
    const unreachable = store.samples
      .range("exp001", T0, T0 + 60 * S)
      .filter((x) => !x.reachable)
      .map((x) => x.at);
    expect(unreachable).toEqual([15, 20, 25].map((s) => T0 + s * S));
    // Last alive at 35 s: the sample before the death was kept although 5 s after the last.
    const alive = store.samples.range("exp001", T0, T0 + 60 * S).filter((x) => x.alive);
    expect(alive.at(-1)?.at).toBe(T0 + 35 * S);
    expect(store.samples.latest("exp001")?.at).toBe(T0 + 45 * S);
  });

  it("the newest reachable sample survives an unreachable VM", () => {
    store.samples.record(sample(T0, 1), 30 * S);
    store.samples.record(sample(T0 + 5 * S, 7), 30 * S);
    store.samples.record(
      sample(T0 + 10 * S, 7, { reachable: false, alive: null, step: null, gpus: [] }),
      30 * S,
    );
    expect(store.samples.latest("exp001")?.reachable).toBe(false);
    expect(store.samples.latestReachable("exp001")).toEqual(sample(T0 + 5 * S, 7));
  });

  it("sampleEvery 0 keeps every poll's sample", () => {
    for (let i = 0; i < 5; i++) store.samples.record(sample(T0 + i * S, i), 0);
    expect(history()).toEqual([0, 1, 2, 3, 4]);
  });

  it("stores GPU figures per row and what names each GPU once per run, and reads both back", () => {
    store.samples.insert(sample(T0, 1));
    const swapped = GPUS.map((g) => ({ ...g, memoryUsedMiB: null, utilizationPercent: null }));
    store.samples.insert(sample(T0 + S, 2, { gpus: swapped }));
    const [first, second] = store.samples.range("exp001", T0, T0 + 2 * S);
    expect(first?.gpus).toEqual(GPUS);
    expect(second?.gpus).toEqual(swapped);
    const names = db.prepare("SELECT COUNT(*) AS n FROM sample_gpus").get() as { n: number };
    expect(names.n).toBe(2);
    const row = db.prepare("SELECT gpus_json FROM samples ORDER BY at LIMIT 1").get() as {
      gpus_json: string;
    };
    expect(row.gpus_json).not.toContain("H100");
  });

  it("reads rows written before the GPUs were packed as they were written", () => {
    db.close();
    const raw = new Database(join(dir, "t.db"));
    raw
      .prepare(
        "INSERT INTO samples (run, at, reachable, alive, step, gpus_json) VALUES ('exp001', ?, 1, 1, 5, ?)",
      )
      .run(T0, JSON.stringify(GPUS));
    raw.close();
    db = openDatabase(join(dir, "t.db"));
    store = createMonitorStore(db);
    expect(store.samples.latest("exp001")?.gpus).toEqual(GPUS);
  });
});

describe("poll records", () => {
  const poll = (at: number, outcome: "ok" | "degraded" | "skipped" = "ok") =>
    store.polls.insert({
      run: "exp001",
      startedAt: T0 + at * S,
      durationMs: at,
      outcome,
      message: outcome === "degraded" ? "log file missing" : null,
    });
  const rowCount = () => (db.prepare("SELECT COUNT(*) AS n FROM polls").get() as { n: number }).n;

  it("folds successful polls in a row into one record; failures stay their own", () => {
    for (const at of [0, 5, 10, 15]) poll(at);
    poll(20, "degraded");
    poll(25, "skipped");
    for (const at of [30, 35, 40]) poll(at);
    expect(store.polls.compact(T0 + 36 * S)).toBe(4);
    expect(rowCount()).toBe(5);
    const recent = store.polls.recent("exp001", 10);
    expect(recent.map((p) => [(p.startedAt - T0) / S, p.outcome, p.durationMs])).toEqual([
      [40, "ok", 40],
      [35, "ok", 35],
      [30, "ok", null],
      [20, "degraded", 20],
      [15, "ok", 15],
      [10, "ok", null],
      [5, "ok", null],
      [0, "ok", null],
    ]);
    expect(store.polls.skippedSince("exp001", T0)).toBe(1);
    // Compacting again changes nothing; a later poll joins the open streak once it is old.
    expect(store.polls.compact(T0 + 36 * S)).toBe(0);
    poll(45);
    expect(store.polls.compact(T0 + 50 * S)).toBe(2);
    expect(store.polls.recent("exp001", 1)[0]).toMatchObject({ startedAt: T0 + 45 * S });
  });

  it("pruning a folded streak that straddles the cutoff keeps its later polls", () => {
    for (let at = 0; at <= 90; at += 10) poll(at);
    store.polls.compact(T0 + 100 * S);
    expect(rowCount()).toBe(1);
    store.polls.prune(T0 + 45 * S);
    const left = store.polls.recent("exp001", 10).map((p) => (p.startedAt - T0) / S);
    expect(left).toEqual([90, 80, 70, 60, 50]);
    store.polls.prune(T0 + 91 * S);
    expect(store.polls.recent("exp001", 10)).toEqual([]);
  });
});

describe("step points", () => {
  it(`keeps the newest ${STEPS_KEPT_PER_RUN} per run, so a run's steps stay bounded`, () => {
    for (let i = 0; i < 300; i++) {
      for (const run of ["a", "b"]) {
        store.steps.insert(run, {
          at: T0 + i * S,
          step: i,
          total: null,
          epoch: null,
          loss: null,
          stepTime: null,
        });
      }
    }
    const count = db.prepare("SELECT run, COUNT(*) AS n FROM steps GROUP BY run").all();
    expect(count).toEqual([
      { run: "a", n: STEPS_KEPT_PER_RUN },
      { run: "b", n: STEPS_KEPT_PER_RUN },
    ]);
    const recent = store.steps.recent("a", 64).map((p) => p.step);
    expect(recent).toEqual(Array.from({ length: 64 }, (_, i) => 236 + i));
  });
});
