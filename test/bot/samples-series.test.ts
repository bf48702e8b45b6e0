import { describe, expect, it } from "vitest";
import { planSample, useBotFixture } from "./bot-fixture.ts";

const f = useBotFixture();

describe("SamplesRepo series", () => {
  it("averages into buckets, skips nulls per metric, keeps time order and the window", () => {
    const t0 = Date.UTC(2026, 0, 1);
    const inserted = f.samples.insertMany(
      [0, 10, 20, 30, 40, 50, 60].map((s, i) =>
        planSample("exp001", t0 + s * 1000, {
          stepTimeSeconds: i % 2 === 0 ? 10 + i : null,
          gpus: [
            {
              index: 0,
              name: "A",
              memoryUsedMiB: 1024 * (i + 1),
              memoryTotalMiB: 81920,
              utilizationPercent: null,
              temperatureC: null,
              powerW: null,
            },
          ],
        }),
      ),
    );
    expect(inserted).toBe(7);
    f.samples.insert(planSample("exp002", t0, { stepTimeSeconds: 99 }));
    // 60 s window in 3 buckets of 20 s: [0,10] [20,30] [40,50]; the sample at 60 s is outside.
    const many = f.samples.seriesMany(
      "exp001",
      ["step_time_s", "gpu_mem_used_mib", "gpu_util_pct"],
      t0,
      t0 + 60_000,
      3,
    );
    expect(many.step_time_s).toEqual([
      { at: t0, value: 10 },
      { at: t0 + 20_000, value: 12 },
      { at: t0 + 40_000, value: 14 },
    ]);
    expect(many.gpu_mem_used_mib?.map((p) => p.value)).toEqual([1536, 3584, 5632]);
    expect(many.gpu_util_pct).toEqual([]);
    expect(f.samples.series("exp001", "step_time_s", t0, t0 + 60_000, 3)).toEqual(many.step_time_s);
    expect(() =>
      f.samples.series("exp001", "loss; DROP TABLE samples" as "step", t0, t0 + 1),
    ).toThrow("unknown metric");
  });
});
