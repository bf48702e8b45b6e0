import { describe, expect, it } from "vitest";
import { estimateProgress } from "../../../src/monitors/parsers/progress-estimator.ts";

const HOUR = 3_600_000;

describe("estimateProgress", () => {
  it("reproduces the plan: 549 steps in 3 h, 4000 steps/epoch, 32 epochs", () => {
    const estimate = estimateProgress(
      [
        { at: 0, step: 0 },
        { at: 3 * HOUR, step: 549 },
      ],
      { perEpoch: 4000, epochs: 32 },
    );
    const stepTime = 10800 / 549; // 19.67 s
    expect(estimate.stepTimeSeconds).toBeCloseTo(stepTime, 9);
    expect(estimate.stepsPerHour).toBeCloseTo(183, 9);
    // One epoch takes 4000 × 19.67 s = 21.86 h (the plan rounds to "~20 hours").
    expect((4000 * (estimate.stepTimeSeconds as number)) / 3600).toBeCloseTo(21.858, 3);
    // The rest of training: (128000 − 549) steps → 29.0 days (the plan says ~26.7 at 20 h/epoch).
    expect(estimate.etaSeconds).toBeCloseTo((128000 - 549) * stepTime, 6);
    expect((estimate.etaSeconds as number) / 86400).toBeCloseTo(29.02, 2);
    expect(estimate.epochEtaSeconds).toBeCloseTo((4000 - 549) * stepTime, 6);
    expect(estimate.globalStep).toBe(549);
  });

  it("takes the median interval: one slow checkpoint does not swing it", () => {
    const points = [0, 18, 36, 54, 400, 418, 436].map((s, i) => ({ at: s * 1000, step: i }));
    expect(estimateProgress(points).stepTimeSeconds).toBe(18);
  });

  it("counts lines read in one poll once and ignores repeated steps", () => {
    const points = [
      { at: 0, step: 10 },
      { at: 0, step: 11 },
      { at: 30_000, step: 12 },
      { at: 30_000, step: 13 },
      { at: 60_000, step: 15 },
      { at: 90_000, step: 17 },
      { at: 120_000, step: 17 },
    ];
    expect(estimateProgress(points).stepTimeSeconds).toBe(15);
  });

  it("discards everything before a restart (the step goes backwards)", () => {
    const points = [
      { at: 0, step: 500 },
      { at: 10_000, step: 600 }, // 0.1 s/step before the restart
      { at: 20_000, step: 0 },
      { at: 50_000, step: 10 },
      { at: 80_000, step: 20 },
    ];
    expect(estimateProgress(points).stepTimeSeconds).toBe(3);
  });

  it("turns per-epoch batch counters into a global step; an epoch rollover is not a restart", () => {
    const points = [
      { at: 0, step: 300, epoch: 11, total: 314 },
      { at: 10_000, step: 310, epoch: 11, total: 314 },
      { at: 20_000, step: 6, epoch: 12, total: 314 },
    ];
    const estimate = estimateProgress(points, { epochs: 300 });
    expect(estimate.globalStep).toBe(12 * 314 + 6);
    expect(estimate.stepTimeSeconds).toBe(1);
    expect(estimate.epochEtaSeconds).toBe(314 - 6);
    expect(estimate.etaSeconds).toBeNull(); // perEpoch unknown to the config
  });

  it("a total larger than an epoch marks a global step even with an epoch printed", () => {
    // The simulator's "Train step 12549/128000 (epoch 3/32)".
    const estimate = estimateProgress(
      [
        { at: 0, step: 12540, epoch: 3, total: 128000 },
        { at: 90_000, step: 12549, epoch: 3, total: 128000 },
      ],
      { perEpoch: 4000, epochs: 32 },
    );
    expect(estimate.globalStep).toBe(12549);
    expect(estimate.stepTimeSeconds).toBe(10);
    expect(estimate.epochEtaSeconds).toBe((4000 - 549) * 10);
    expect(estimate.etaSeconds).toBe((128000 - 12549) * 10);
  });

  it("prefers the step time the logger reports", () => {
    const estimate = estimateProgress([{ at: 0, step: 1 }], {
      reportedStepTime: 2.88,
      perEpoch: 1752,
      epochs: 1,
    });
    expect(estimate.stepTimeSeconds).toBe(2.88);
    expect(estimate.etaSeconds).toBeCloseTo((1752 - 1) * 2.88, 9);
  });

  it("knows nothing from nothing", () => {
    expect(estimateProgress([])).toEqual({
      stepTimeSeconds: null,
      stepsPerHour: null,
      etaSeconds: null,
      epochEtaSeconds: null,
      globalStep: null,
    });
    expect(estimateProgress([{ at: 0, step: 5 }]).stepTimeSeconds).toBeNull();
  });
});
