import { createCanvas, loadImage } from "@napi-rs/canvas";
import { describe, expect, it } from "vitest";
import { OVERVIEW_METRICS } from "../../src/charts/chart-metrics.ts";
import { METRIC_STYLES, OVERLAY_COLOURS } from "../../src/charts/chart-series.ts";
import { renderRunChart } from "../../src/charts/run-chart.ts";
import { planSample, useBotFixture } from "./bot-fixture.ts";

const f = useBotFixture();

/** Width and height from the IHDR chunk, after checking the PNG signature. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(png.subarray(12, 16).toString("ascii")).toBe("IHDR");
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** How many pixels are close to `hex`. */
async function pixelsNear(png: Buffer, hex: string): Promise<number> {
  const image = await loadImage(png);
  const canvas = createCanvas(image.width, image.height);
  const ctx = canvas.getContext("2d");
  ctx.drawImage(image, 0, 0);
  const data = ctx.getImageData(0, 0, image.width, image.height).data;
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as [
    number,
    number,
    number,
  ];
  let n = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (
      Math.abs((data[i] as number) - r) < 12 &&
      Math.abs((data[i + 1] as number) - g) < 12 &&
      Math.abs((data[i + 2] as number) - b) < 12
    )
      n++;
  }
  return n;
}

function fill(from: number, to: number, every = 60_000): void {
  for (let at = from; at < to; at += every) {
    const i = (at - from) / every;
    f.samples.insert(
      planSample("exp001", at, {
        stepTimeSeconds: i < 60 ? 18 : 9.5,
        gpus: [
          {
            index: 0,
            name: "A100",
            memoryUsedMiB: 70_000 + (i % 10) * 100,
            memoryTotalMiB: 81920,
            utilizationPercent: 40 + (i % 20),
            temperatureC: null,
            powerW: null,
          },
        ],
      }),
    );
  }
}

describe("renderRunChart", () => {
  it("draws all four series, limits, a phase boundary and an OOM at 800×400", async () => {
    const to = f.clock.now();
    const from = to - 2 * 3_600_000;
    fill(from, to);
    f.events.insert("exp001", from + 90 * 60_000, {
      kind: "cuda_oom",
      line: "CUDA out of memory",
      lineNumber: 1,
      source: "log",
    });
    const image = await renderRunChart(f, {
      run: "exp001",
      from,
      to,
      limits: { gpuMemoryGiB: 80, hostMemoryGiB: 100 },
      markers: [{ at: from + 60 * 60_000, label: "P1" }],
    });
    expect(pngSize(image.png)).toEqual({ width: 800, height: 400 });
    expect(image.name).toBe("exp001-overview.png");
    for (const style of OVERVIEW_METRICS.map((m) => METRIC_STYLES[m]))
      expect(await pixelsNear(image.png, style.colour), style.title).toBeGreaterThan(50);
    expect(await pixelsNear(image.png, OVERLAY_COLOURS.limit)).toBeGreaterThan(50);
    expect(await pixelsNear(image.png, OVERLAY_COLOURS.oom)).toBeGreaterThan(20);
    expect(await pixelsNear(image.png, OVERLAY_COLOURS.phase)).toBeGreaterThan(20);
    expect(image.alt).toContain("Step time: 9.5 s/step");
    expect(image.alt).toContain("(limit 80 GiB)");
    expect(image.alt).toContain("1 OOM event");
  });

  it("draws one metric alone, at another size, and leaves out the others", async () => {
    const to = f.clock.now();
    fill(to - 3_600_000, to);
    const image = await renderRunChart(f, {
      run: "exp001",
      from: to - 3_600_000,
      to,
      metrics: ["gpu_util"],
      width: 640,
      height: 320,
    });
    expect(pngSize(image.png)).toEqual({ width: 640, height: 320 });
    expect(await pixelsNear(image.png, METRIC_STYLES.gpu_util.colour)).toBeGreaterThan(50);
    expect(await pixelsNear(image.png, METRIC_STYLES.step_time.colour)).toBe(0);
    expect(await pixelsNear(image.png, OVERLAY_COLOURS.oom)).toBe(0);
  });

  it("renders text (labels are drawn, not blank) and an empty window without failing", async () => {
    const to = f.clock.now();
    const image = await renderRunChart(f, {
      run: "exp001",
      from: to - 3_600_000,
      to,
      metrics: ["vram"],
    });
    expect(pngSize(image.png)).toEqual({ width: 800, height: 400 });
    // Titles and "no data in this window" are dark-grey text on white.
    expect(await pixelsNear(image.png, "#222222")).toBeGreaterThan(30);
    expect(await pixelsNear(image.png, "#888888")).toBeGreaterThan(10);
    expect(image.alt).toContain("VRAM, busiest GPU: no data");
  });

  it("takes a verdict's heading instead of the window's", async () => {
    const to = f.clock.now();
    fill(to - 3_600_000, to);
    const options = { run: "exp001", from: to - 3_600_000, to, metrics: ["step_time"] as const };
    const plain = await renderRunChart(f, options);
    const titled = await renderRunChart(f, { ...options, title: "exp001: Phase 1 passed" });
    expect(plain.alt).toMatch(/^exp001, last 1.0 h: Step time: /);
    expect(titled.alt).toMatch(/^exp001: Phase 1 passed: Step time: /);
    // The heading is drawn: the two images differ.
    expect(titled.png.equals(plain.png)).toBe(false);
  });
});
