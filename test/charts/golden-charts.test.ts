import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { drawRunChart } from "../../src/charts/run-chart.ts";
import { chartStore, HOUR, MIN, NOW } from "./chart-fixture.ts";
import { CHART_SCENARIOS } from "./chart-scenarios.ts";
import { diffPng } from "./png-diff.ts";

/**
 * Charts are checked by looking at them: each scenario's PNG against the golden file a person
 * looked at, within a tolerance for anti-aliasing. `UPDATE_GOLDEN=1` rewrites the files (look at
 * them before committing).
 */
const GOLDEN_DIR = join(import.meta.dirname, "..", "fixtures", "charts");
/**
 * Share of pixels allowed to differ: about 100 of an 800×400 chart, a few glyph edges; a marker
 * moved by a minute or a changed word in the heading is several times that.
 */
const TOLERANCE = 0.0003;
const update = process.env.UPDATE_GOLDEN === "1";

describe("golden charts", () => {
  for (const scenario of CHART_SCENARIOS) {
    it(`${scenario.name} looks as the golden picture does`, async () => {
      const { image } = scenario.draw();
      const file = join(GOLDEN_DIR, `${scenario.name}.png`);
      if (update || !existsSync(file)) {
        expect(update, `${file} is missing: run with UPDATE_GOLDEN=1 and look at it`).toBe(true);
        mkdirSync(GOLDEN_DIR, { recursive: true });
        writeFileSync(file, image.png);
      }
      // Small enough to send quickly and to keep in the repository.
      expect(image.png.length).toBeLessThan(80_000);
      const diff = await diffPng(readFileSync(file), image.png);
      if (diff.ratio > TOLERANCE) {
        const out = mkdtempSync(join(tmpdir(), "trainops-golden-"));
        writeFileSync(join(out, `${scenario.name}.actual.png`), image.png);
        writeFileSync(join(out, `${scenario.name}.diff.png`), diff.picture());
        expect.fail(
          `${scenario.name}: ${diff.differing} pixels (${(100 * diff.ratio).toFixed(2)}%) differ from the golden file; actual and diff in ${out}`,
        );
      }
      expect(diff.sameSize).toBe(true);
    });
  }

  it("the comparison notices a moved marker (the tolerance is not blind)", async () => {
    const store = chartStore();
    try {
      store.fill(NOW - 2 * HOUR, NOW, 30_000);
      const options = {
        run: "exp001",
        from: NOW - 2 * HOUR,
        to: NOW,
        metrics: ["step_time"] as const,
      };
      const before = drawRunChart(store, {
        ...options,
        markers: [{ at: NOW - 60 * MIN, label: "P1" }],
      });
      const same = drawRunChart(store, {
        ...options,
        markers: [{ at: NOW - 60 * MIN, label: "P1" }],
      });
      const moved = drawRunChart(store, {
        ...options,
        markers: [{ at: NOW - 59 * MIN, label: "P1" }],
      });
      const retitled = drawRunChart(store, {
        ...options,
        title: "exp001 - last 2.0 hours",
        markers: [{ at: NOW - 60 * MIN, label: "P1" }],
      });
      expect((await diffPng(before.image.png, same.image.png)).ratio).toBe(0);
      expect((await diffPng(before.image.png, moved.image.png)).ratio).toBeGreaterThan(TOLERANCE);
      expect((await diffPng(before.image.png, retitled.image.png)).ratio).toBeGreaterThan(
        TOLERANCE,
      );
      const small = drawRunChart(store, { ...options, width: 640 });
      expect((await diffPng(before.image.png, small.image.png)).sameSize).toBe(false);
    } finally {
      store.close();
    }
  });
});
