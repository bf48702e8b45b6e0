import { describe, expect, it } from "vitest";
import type { RunSample } from "../../src/model/monitoring.ts";
import { checkLines, judgePhase, measurePhase } from "../../src/ops/criteria.ts";
import type { StoredEvent } from "../../src/store/events-repo.ts";

const GIB = 1024 ** 3;

function samples(
  n: number,
  spec: { stepTime: number; vram?: number; util?: number; ram?: number; from?: number },
): RunSample[] {
  return Array.from({ length: n }, (_, i) => ({
    run: "r",
    at: 1000 * i,
    reachable: true,
    alive: true,
    step: (spec.from ?? 0) + i,
    totalSteps: null,
    epoch: null,
    loss: null,
    stepTimeSeconds: spec.stepTime,
    stepsPerHour: null,
    etaSeconds: null,
    epochEtaSeconds: null,
    gpus: [
      {
        index: 0,
        name: "A100",
        memoryUsedMiB: (spec.vram ?? 77) * 1024,
        memoryTotalMiB: 81920,
        utilizationPercent: spec.util ?? 60,
        temperatureC: null,
        powerW: null,
      },
    ],
    hostMemory: null,
    workers: { count: 4, rssBytes: (spec.ram ?? 28) * GIB },
    trainerRssBytes: 0,
    diskFreeBytes: null,
  }));
}

const hold = { minSteps: 100, maxSteps: 200 };

type JudgeInput = Parameters<typeof judgePhase>[0];

/**
 * judgePhase with what most cases share: `hold`, 10 warm-up steps, batch 1, no reference,
 * within the time budget.
 */
function judge(input: Pick<JudgeInput, "measure" | "criteria"> & Partial<JudgeInput>) {
  return judgePhase({
    hold,
    warmupSteps: 10,
    batch: 1,
    reference: null,
    overBudget: false,
    ...input,
  });
}

describe("judgePhase", () => {
  it("passes at minSteps when every criterion holds (phase 4: VRAM, GPU util)", () => {
    const m = measurePhase(samples(112, { stepTime: 2.5, vram: 78.1, util: 72 }), [], 10);
    expect(m.evalSteps).toBe(101);
    const j = judge({
      measure: m,
      criteria: { noOom: true, noCrash: true, maxVramGiB: 80, minGpuUtilPercent: 50 },
      batch: 4,
      reference: { name: "Phase 3", stepTimeSeconds: 3.5, batch: 2 },
    });
    expect(j.verdict).toBe("passed");
    expect(checkLines(j.checks)).toEqual([
      "✓ steps 101 (needs 100 after 10 warm-up)",
      "✓ no out-of-memory",
      "✓ no crash",
      "✓ VRAM peak 78.1 GiB (needs < 80 GiB)",
      "✓ GPU util 72% (needs > 50%)",
    ]);
  });

  it("keeps going while a ratio is unmet, then fails at maxSteps", () => {
    const criteria = { noOom: true, noCrash: true, maxStepTimeRatio: 1 };
    const ref = { name: "Baseline", stepTimeSeconds: 18.1, batch: 1 };
    const mid = judge({
      measure: measurePhase(samples(150, { stepTime: 19 }), [], 10),
      criteria,
      reference: ref,
    });
    expect(mid).toMatchObject({ verdict: "continue", state: "evaluating" });
    const end = judge({
      measure: measurePhase(samples(215, { stepTime: 19 }), [], 10),
      criteria,
      reference: ref,
    });
    expect(end).toMatchObject({
      verdict: "failed",
      reason: "after 204 steps: step time 19 s (needs < 18.1 s, as Baseline)",
    });
  });

  it("fails at once on a bound or an OOM, warm-up included", () => {
    const vram = judge({
      measure: measurePhase(samples(5, { stepTime: 9, vram: 80.2 }), [], 10),
      criteria: { noOom: true, noCrash: true, maxVramGiB: 80 },
      batch: 2,
    });
    expect(vram).toMatchObject({
      verdict: "failed",
      reason: "VRAM peak 80.2 GiB (needs < 80 GiB)",
    });
    const kill: StoredEvent = {
      id: 1,
      run: "r",
      at: 3000,
      kind: "host_oom_kill",
      source: "kernel",
      line: "Out of memory: Killed process 4242 (pt_data_worker)",
      detail: null,
    };
    const oom = judge({
      measure: measurePhase(samples(5, { stepTime: 9 }), [kill], 10),
      criteria: { noOom: true, noCrash: true, maxHostRamGiB: 100 },
      batch: 2,
    });
    expect(oom).toMatchObject({
      verdict: "failed",
      reason:
        "killed by the host's OOM killer: Out of memory: Killed process 4242 (pt_data_worker)",
    });
  });

  it("is inconclusive when too few steps arrive within the time budget", () => {
    const j = judge({
      measure: measurePhase(samples(40, { stepTime: 9 }), [], 10),
      criteria: { noOom: true, noCrash: true },
      overBudget: true,
    });
    expect(j).toMatchObject({
      verdict: "inconclusive",
      reason: "only 29 of 100 steps within the time budget",
    });
  });

  it("counts steps across a restart inside the window and ignores warm-up step times", () => {
    const first = samples(20, { stepTime: 30, from: 500 });
    const second = samples(30, { stepTime: 9, from: 3 }).map((s) => ({ ...s, at: s.at + 20_000 }));
    const m = measurePhase([...first, ...second], [], 20);
    expect(m.steps).toBe(19 + 29);
    expect(m.stepTimeSeconds).toBe(9);
  });
});
