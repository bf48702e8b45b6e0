import { describe, expect, it } from "vitest";
import type { RunSample } from "../../src/model/monitoring.ts";
import { readRunStatus } from "../../src/monitors/run-status.ts";
import { openDatabase } from "../../src/store/database.ts";
import { createMonitorStore } from "../../src/store/monitor-store.ts";
import { gpuSample, runSample } from "../harness/sample-factory.ts";

function sample(at: number, over: Partial<RunSample> = {}): RunSample {
  return runSample({
    at,
    totalSteps: 128_000,
    stepTimeSeconds: 19.67,
    stepsPerHour: 183,
    etaSeconds: 2_507_000,
    epochEtaSeconds: 68_000,
    gpus: [
      gpuSample({ memoryUsedMiB: 78_848, utilizationPercent: 0, temperatureC: 40, powerW: 90 }),
    ],
    hostMemory: { usedBytes: 30 * 2 ** 30, totalBytes: 128 * 2 ** 30 },
    trainerRssBytes: 2 * 2 ** 30,
    diskFreeBytes: 100 * 2 ** 30,
    ...over,
  });
}

describe("readRunStatus", () => {
  it("keeps the last progress through an unreachable poll and skips a restart's interrupt", () => {
    const store = createMonitorStore(openDatabase(":memory:"));
    store.samples.insert(sample(1_000));
    store.polls.insert({
      run: "exp001",
      startedAt: 1_000,
      durationMs: 15,
      outcome: "ok",
      message: null,
    });
    store.events.insert("exp001", 1_500, {
      kind: "cuda_oom",
      line: "torch.OutOfMemoryError: CUDA out of memory.",
      lineNumber: 10,
      source: "log",
    });
    store.events.insert("exp001", 1_800, {
      kind: "interrupted",
      line: "KeyboardInterrupt",
      lineNumber: 11,
      source: "log",
    });
    store.samples.insert(
      sample(2_000, { reachable: false, alive: null, step: null, gpus: [], workers: null }),
    );
    store.polls.insert({
      run: "exp001",
      startedAt: 2_000,
      durationMs: 10_000,
      outcome: "unreachable",
      message: "connection refused",
    });
    const status = readRunStatus(store, "exp001");
    expect(status.reachable).toBe(false);
    expect(status.alive).toBeNull();
    expect(status.step).toBe(549);
    expect(status.stepsPerHour).toBe(183);
    expect(status.gpus[0]?.memoryUsedMiB).toBe(78_848);
    expect(status.lastPollAt).toBe(new Date(2_000).toISOString());
    expect(status.lastError).toEqual({
      kind: "cuda_oom",
      line: "torch.OutOfMemoryError: CUDA out of memory.",
      at: new Date(1_500).toISOString(),
    });
  });

  it("is all nulls for a run never polled", () => {
    const store = createMonitorStore(openDatabase(":memory:"));
    const status = readRunStatus(store, "exp001");
    expect(status).toMatchObject({
      name: "exp001",
      step: null,
      reachable: null,
      alive: null,
      lastPollAt: null,
      lastError: null,
      gpus: [],
    });
  });

  it("prices the run with cost: so far since the first sample, to finish at the current step time", () => {
    const store = createMonitorStore(openDatabase(":memory:"));
    const hour = 3_600_000;
    store.samples.insert(sample(0, { step: 0 }));
    // 4,000 steps an epoch, 32 epochs; step 12,549 at 18 s a step: 115,451 steps left.
    store.samples.insert(sample(10 * hour, { step: 12_549, stepTimeSeconds: 18 }));
    const run = {
      steps: { format: "auto", perEpoch: 4000, epochs: 32 },
      cost: { perHour: 32.77, currency: "USD" },
    };
    const status = readRunStatus(store, "exp001", { run, now: 10 * hour });
    expect(status.cost).toEqual({
      perHour: 32.77,
      currency: "USD",
      soFar: 327.7,
      toFinish: 18_916.65,
    });
    expect(
      readRunStatus(store, "exp001", { run: { steps: run.steps }, now: 10 * hour }).cost,
    ).toBeNull();
  });

  it("fills etaSeconds whenever the total is known, also from the log's own N/M", () => {
    const store = createMonitorStore(openDatabase(":memory:"));
    store.samples.insert(
      sample(1_000, { step: 1_000, totalSteps: 4_000, stepTimeSeconds: 2, etaSeconds: null }),
    );
    expect(readRunStatus(store, "exp001").etaSeconds).toBe(6_000);
    store.samples.insert(sample(2_000, { totalSteps: null, etaSeconds: null }));
    expect(readRunStatus(store, "exp001").etaSeconds).toBeNull();
  });
});
