import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runSchema } from "../../src/config/schema.ts";
import { ManualClock } from "../../src/core/clock.ts";
import type { RunSample } from "../../src/model/monitoring.ts";
import { LogIngestor } from "../../src/monitors/log-ingestor.ts";
import { readRunStatus } from "../../src/monitors/run-status.ts";
import { type Db, openDatabase } from "../../src/store/database.ts";
import { createMonitorStore, type MonitorStore } from "../../src/store/monitor-store.ts";
import { logOnlySample } from "../harness/quiet-probe.ts";

let db: Db;
let store: MonitorStore;
let clock: ManualClock;
beforeEach(() => {
  db = openDatabase(":memory:");
  store = createMonitorStore(db);
  clock = new ManualClock();
});
afterEach(() => db.close());

/** Feeds the log a poll at a time, one minute apart, and builds the sample of the last poll. */
function pollEveryMinute(chunks: string[]): RunSample {
  const run = runSchema.parse({ name: "exp", ssh: "local", workdir: "/tmp", log: "train.log" });
  const ingestor = new LogIngestor({ run: "exp", store, clock, steps: { format: "auto" } });
  let offset = 0;
  for (const [i, chunk] of chunks.entries()) {
    if (i > 0) clock.advance(60_000);
    const bytes = Buffer.from(chunk);
    ingestor.ingest({ inode: "1", start: offset, bytes, reset: i === 0 ? "attach" : "none" });
    offset += bytes.length;
  }
  const sample = logOnlySample(run, clock.now(), store);
  store.samples.insert(sample);
  return sample;
}

describe("step time when the log prints neither a rate nor timestamps", () => {
  it("is measured from when the monitor saw the steps arrive, and marked as such", () => {
    const sample = pollEveryMinute([
      "Epoch [1/3] Step [100/2500] loss: 0.9\n",
      "Epoch [1/3] Step [200/2500] loss: 0.8\n",
      "Epoch [1/3] Step [300/2500] loss: 0.7\n",
    ]);
    // 100 steps a minute.
    expect(sample.stepTimeSeconds).toBeCloseTo(0.6, 6);
    expect(sample.stepsPerHour).toBeCloseTo(6000, 6);
    expect(sample.stepTimeObserved).toBe(true);
    // The tutorial's in-epoch step is reported as the global one, with the run's total.
    expect(sample).toMatchObject({ step: 300, totalSteps: 7500, epoch: 1 });
    // What `trainops status` reads back from the store says so too.
    expect(readRunStatus(store, "exp")).toMatchObject({
      stepTimeSeconds: sample.stepTimeSeconds,
      stepTimeObserved: true,
    });
  });

  it("keeps the global step across an epoch boundary, so the rate does not jump", () => {
    const sample = pollEveryMinute([
      "Epoch [1/3] Step [2400/2500] loss: 0.5\n",
      "Epoch [1/3] Step [2500/2500] loss: 0.5\n",
      "Epoch [2/3] Step [100/2500] loss: 0.4\n",
      "Epoch [2/3] Step [200/2500] loss: 0.4\n",
    ]);
    expect(sample).toMatchObject({ step: 2700, totalSteps: 7500, epoch: 2 });
    expect(sample.stepTimeSeconds).toBeCloseTo(0.6, 6);
    expect(sample.epochEtaSeconds).toBeCloseTo(2300 * 0.6, 6);
  });

  it("is the logger's own when it prints one, and not marked", () => {
    const sample = pollEveryMinute([
      "Train step 100/4000 - loss: 0.9 - 0.50 s/step\n",
      "Train step 220/4000 - loss: 0.8 - 0.50 s/step\n",
    ]);
    expect(sample.stepTimeSeconds).toBe(0.5);
    expect(sample.stepTimeObserved).toBe(false);
    expect(readRunStatus(store, "exp").stepTimeObserved).toBe(false);
  });
});
