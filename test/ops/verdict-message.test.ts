import { describe, expect, it } from "vitest";
import { verdictMessage } from "../../src/ops/verdict-message.ts";
import { phaseAttempt, phaseMeasure } from "../harness/phase-factory.ts";

const attempt = phaseAttempt();
const measure = phaseMeasure;

describe("verdict message", () => {
  it("a pass says the time to finish before and after, and what it saves at the run's price", () => {
    const m = verdictMessage({
      run: "exp001",
      attempt,
      verdict: "passed",
      reason: "all criteria met",
      measure: measure(),
      criteria: { noOom: true, noCrash: true, maxVramGiB: 80, minGpuUtilPercent: 40 },
      reference: { stepTimeSeconds: 7.2576 },
      checks: [
        {
          ok: true,
          label: "VRAM peak",
          measured: true,
          text: "VRAM peak 77.6 GiB (needs < 80 GiB)",
        },
        { ok: null, label: "throughput", measured: false, text: "throughput not measured yet" },
      ],
      next: null,
      autoAdvance: false,
      finish: { remainingSteps: 100_000, cost: { perHour: 32.77, currency: "USD" } },
    });
    expect(m.lines?.[0]).toBe(
      "Phase 2 passed: 5.44 s/step (was 7.26 s, 1.3x faster), VRAM peak 77.6 GiB (needs < 80 GiB), training RSS peak 14.0 GiB, GPU util 48% (needs > 40%), 100 steps. The plan is complete.",
    );
    // 100,000 steps: 8.4 days at 7.26 s, 6.3 days at 5.44 s; 50.4 h at $32.77/h.
    expect(m.lines?.[1]).toBe("Time to finish: 8.4 days → 6.3 days, saves $1,652.");
    // Only what was judged, then what was not.
    expect(m.fields?.[0]?.value).toBe(
      "✓ VRAM peak 77.6 GiB (needs < 80 GiB)\nNot judged: throughput (the phase ended first).",
    );
  });

  it("without a price it gives the times alone; host RAM is called host RAM", () => {
    const m = verdictMessage({
      run: "exp001",
      attempt: { ...attempt, kind: "baseline", phaseIndex: 0 },
      verdict: "passed",
      reason: "measured",
      measure: measure({ ramSource: "host", ramPeakGiB: 1.09 }),
      criteria: null,
      reference: null,
      checks: [],
      next: null,
      autoAdvance: false,
      finish: { remainingSteps: 100_000, cost: undefined },
    });
    expect(m.lines?.[0]).toContain("host RAM peak 1.1 GiB");
    expect(m.lines?.[1]).toBe("Time to finish: 6.3 days at this pace.");
  });
});
