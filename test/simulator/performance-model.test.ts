import { describe, expect, it } from "vitest";
import { stepCost } from "../../src/simulator/performance-model.ts";

const at = (workers: number, batchSize: number, persistentWorkers = false) =>
  stepCost({ workers, batchSize, persistentWorkers });

describe("performance model (the plan's expectations)", () => {
  it("baseline: 1 worker, batch 1 is data-bound at ~18 s/step with the GPU nearly idle", () => {
    const base = at(1, 1);
    expect(base.stepSeconds).toBeCloseTo(18, 5);
    expect(base.gpuUtilPercent).toBeLessThan(10);
    expect(base.vramGiB).toBeCloseTo(77, 0);
    expect(base.workerRamGiB).toBeCloseTo(7, 5);
  });

  it("follows each phase's expected step time, VRAM and RAM", () => {
    expect(at(2, 1).stepSeconds).toBeCloseTo(9.5, 1); // phase 1: ~9-10 s
    const p2 = at(2, 2);
    expect(p2.stepSeconds).toBeGreaterThan(5); // phase 2: ~5-6 s
    expect(p2.stepSeconds).toBeLessThan(6);
    expect(p2.vramGiB).toBeCloseTo(77.5, 1);
    const p3 = at(4, 2);
    expect(p3.stepSeconds).toBeGreaterThan(3); // phase 3: ~3-4 s
    expect(p3.stepSeconds).toBeLessThan(4);
    expect(p3.hostRamGiB - p3.trainerRamGiB).toBeCloseTo(29, 0); // ~28 GB of workers
    const p4 = at(4, 4);
    expect(p4.stepSeconds).toBeGreaterThan(2); // phase 4: ~2-3 s
    expect(p4.stepSeconds).toBeLessThan(3);
    expect(p4.vramGiB).toBeCloseTo(78.4, 1);
    expect(p4.gpuUtilPercent).toBeGreaterThan(50);
    expect(at(4, 4, true).stepSeconds).toBeLessThan(p4.stepSeconds);
  });

  it("saturates past ~6 workers and runs out of VRAM at batch 8", () => {
    expect(at(6, 4).stepSeconds).toBeLessThan(at(4, 4).stepSeconds);
    expect(at(6, 4).stepSeconds - at(12, 4).stepSeconds).toBeLessThan(0.05);
    expect(at(4, 8).vramGiB).toBeGreaterThan(80);
    expect(at(0, 1).stepSeconds).toBeGreaterThan(at(1, 1).stepSeconds);
  });
});
