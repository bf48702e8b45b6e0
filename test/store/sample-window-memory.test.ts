import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GpuSample, RunSample } from "../../src/model/monitoring.ts";
import { type Db, openDatabase } from "../../src/store/database.ts";
import { createMonitorStore, type MonitorStore } from "../../src/store/monitor-store.ts";

// The alert rules keep a day of samples per run in memory (SamplesRepo.slidingRange): 2,880 a
// run at the default `sampleEvery` of 30 s, 2.9 million for 1,000 runs. What one cached sample
// costs decides whether that fits; these tests weigh it.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const T0 = Date.UTC(2026, 0, 1);
const RUN = "exp001";
/** A day of samples at the default 30 s. */
const DAY = 2880;

const GPUS: GpuSample[] = [0, 1, 2, 3, 4, 5, 6, 7].map((index) => ({
  index,
  name: "NVIDIA H100 80GB HBM3",
  memoryUsedMiB: 70_000 + index,
  memoryTotalMiB: 81_559,
  utilizationPercent: 97,
  temperatureC: 61,
  powerW: 612.4,
  uuid: `GPU-${index}aa`,
}));

function sample(i: number): RunSample {
  return {
    run: RUN,
    at: T0 + i * 30_000,
    reachable: true,
    alive: true,
    step: 1000 + i,
    totalSteps: 128_000,
    epoch: 3,
    loss: 0.42 + i / 1e6,
    stepTimeSeconds: 1.25,
    stepsPerHour: 2880.5,
    stepTimeObserved: true,
    etaSeconds: 3600 + i,
    epochEtaSeconds: 600.5,
    gpus: GPUS.map((g) => ({ ...g, memoryUsedMiB: 70_000 + (i % 100) })),
    hostMemory: { usedBytes: 2 ** 33 + i, totalBytes: 2 ** 37 },
    workers: { count: 4, rssBytes: 2 ** 31 + i },
    trainerRssBytes: 2 ** 32 + i,
    diskFreeBytes: 2 ** 40 - i,
  };
}

/** Heap bytes still in use after a full collection. */
function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

let dir: string;
let db: Db;
let store: MonitorStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "trainops-window-memory-"));
  db = openDatabase(join(dir, "t.db"));
  store = createMonitorStore(db);
  db.transaction(() => {
    for (let i = 0; i < DAY; i++) store.samples.insert(sample(i));
  })();
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("a day of cached samples", () => {
  it("costs under 1 KB of heap a sample, GPUs unread", () => {
    const from = T0;
    const to = T0 + DAY * 30_000;
    const before = heapUsed();
    const window = store.samples.slidingRange(RUN, from, to);
    const perSample = (heapUsed() - before) / window.length;
    expect(window).toHaveLength(DAY);
    expect(perSample).toBeLessThan(1000);
  });

  it("reads back what was stored, GPUs included, and slides without growing", () => {
    const to = (i: number) => T0 + i * 30_000;
    const baseline = heapUsed();
    expect(readsBack(store.samples.slidingRange(RUN, to(0), to(DAY)))).toBe(true);
    // A day more of polls, each followed by the rules' read of the day before it.
    for (let i = DAY; i < 2 * DAY; i++) {
      store.samples.insert(sample(i));
      store.samples.slidingRange(RUN, to(i + 1 - DAY), to(i + 1));
    }
    expect(store.samples.slidingRange(RUN, to(DAY), to(2 * DAY))[0]).toEqual(sample(DAY));
    // The newer day replaced the older one: the heap holds one day's samples, not two.
    expect((heapUsed() - baseline) / DAY).toBeLessThan(1000);
  });
});

/** The window's samples equal what was stored, read directly, spread or as JSON. */
function readsBack(window: RunSample[]): boolean {
  expect(window).toHaveLength(DAY);
  expect(window[7]).toEqual(sample(7));
  expect({ ...window[9] }).toEqual(sample(9));
  expect(JSON.parse(JSON.stringify(window[11]))).toEqual(sample(11));
  return true;
}
