import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChartLayout, overlaps, type PlacedText } from "../../src/charts/chart-layout.ts";
import { placeLabels } from "../../src/charts/label-placement.ts";
import { type ChartMarker, drawRunChart } from "../../src/charts/run-chart.ts";
import { type ChartStoreFixture, chartStore, DAY, HOUR, MIN, NOW } from "./chart-fixture.ts";
import { CHART_SCENARIOS } from "./chart-scenarios.ts";

/**
 * The charts' geometry, checked on the layout they report (the boxes of every label drawn):
 * nothing leaves the canvas, nothing overlaps, no axis repeats a tick label.
 */
function expectReadable(layout: ChartLayout, what: string): void {
  const { texts, width, height } = layout;
  for (const t of texts) {
    const where = `${what}: ${t.role} '${t.text}' at ${JSON.stringify(t.box)}`;
    expect(t.box.x, where).toBeGreaterThanOrEqual(0);
    expect(t.box.y, where).toBeGreaterThanOrEqual(0);
    expect(t.box.x + t.box.w, where).toBeLessThanOrEqual(width);
    expect(t.box.y + t.box.h, where).toBeLessThanOrEqual(height);
  }
  texts.forEach((a, i) => {
    for (const b of texts.slice(i + 1)) {
      expect(
        overlaps(a.box, b.box),
        `${what}: ${a.role} '${a.text}' overlaps ${b.role} '${b.text}'`,
      ).toBe(false);
    }
  });
  layout.panels.forEach((_, panel) => {
    for (const role of ["x-tick", "y-tick"] as const) {
      const labels = texts.filter((t) => t.panel === panel && t.role === role).map((t) => t.text);
      expect(new Set(labels).size, `${what}: ${role} labels ${labels.join(" | ")}`).toBe(
        labels.length,
      );
    }
  });
}

const ticks = (layout: ChartLayout, panel = 0): string[] =>
  layout.texts.filter((t) => t.panel === panel && t.role === "x-tick").map((t) => t.text);

let store: ChartStoreFixture;
beforeAll(() => {
  store = chartStore();
  // Sparse samples over 400 days: every window below has data to draw.
  store.fill(NOW - 400 * DAY, NOW - 2 * DAY, HOUR, NOW - 9 * DAY);
  store.fill(NOW - 2 * DAY, NOW, 10_000, NOW - 9 * DAY);
});
afterAll(() => store.close());

describe("chart geometry", () => {
  it("every golden scenario is readable", () => {
    for (const scenario of CHART_SCENARIOS) expectReadable(scenario.draw().layout, scenario.name);
  });

  const spans: Array<[string, number, RegExp]> = [
    ["10 s", 10_000, /^\d\d:\d\d:\d\d$/],
    ["90 s", 90_000, /^\d\d:\d\d:\d\d$/],
    ["5 min", 5 * MIN, /^\d\d:\d\d(:\d\d)?$/],
    ["1 h", HOUR, /^(\d\d:\d\d|\d\d-\d\d)$/],
    ["6 h", 6 * HOUR, /^(\d\d:\d\d|\d\d-\d\d)$/],
    ["25 h", 25 * HOUR, /^(\d\d-\d\d( \d\d:\d\d)?|\d\d:\d\d)$/],
    ["3 days", 3 * DAY, /^\d\d-\d\d( \d\d:\d\d)?$/],
    ["30 days", 30 * DAY, /^\d\d-\d\d$/],
    ["400 days", 400 * DAY, /^\d{4}-\d\d-\d\d$/],
  ];
  const zones = [undefined, "Europe/Berlin", "Asia/Kolkata", "America/New_York"];

  it("time ticks: the step follows the span, labels never repeat, in every zone and size", () => {
    for (const [name, span, shape] of spans) {
      for (const timeZone of zones) {
        for (const size of [
          { metrics: undefined, width: 800, height: 400 },
          { metrics: ["step_time"] as const, width: 420, height: 220 },
        ]) {
          const what = `${name} in ${timeZone ?? "UTC"} at ${size.width}×${size.height}`;
          const { layout } = drawRunChart(store, {
            run: "exp001",
            from: NOW - span,
            to: NOW,
            ...(timeZone ? { timeZone } : {}),
            ...size,
          });
          expectReadable(layout, what);
          const labels = ticks(layout);
          expect(labels.length, `${what}: ${labels.join(" | ")}`).toBeGreaterThanOrEqual(2);
          for (const label of labels) expect(label, what).toMatch(shape);
          // The axis says which zone its times are in.
          const unit = layout.texts.find((t) => t.role === "x-unit" && t.panel === 0);
          expect(unit?.text, what).toBe(
            timeZone === "Asia/Kolkata"
              ? "GMT+5:30"
              : timeZone === "Europe/Berlin"
                ? "CET"
                : timeZone
                  ? "GMT-5"
                  : "UTC",
          );
        }
      }
    }
  });

  it("a window shorter than a second still has its start labelled", () => {
    const { layout } = drawRunChart(store, {
      run: "exp001",
      from: NOW - 400,
      to: NOW,
      metrics: ["step_time"],
    });
    expectReadable(layout, "400 ms");
    expect(ticks(layout)).toEqual(["14:01:59"]);
  });

  it("ticks fall on the zone's whole hours, half-hour zones included", () => {
    for (const timeZone of [undefined, "Asia/Kolkata"]) {
      const { layout } = drawRunChart(store, {
        run: "exp001",
        from: NOW - 6 * HOUR,
        to: NOW,
        ...(timeZone ? { timeZone } : {}),
      });
      expect(ticks(layout).length).toBeGreaterThanOrEqual(3);
      for (const label of ticks(layout)) expect(label).toMatch(/:00$/);
    }
  });

  it("a daylight-saving night keeps its repeated hour apart (New York, 2026-11-01)", () => {
    const from = Date.UTC(2026, 10, 1, 3, 0, 0);
    const { layout } = drawRunChart(store, {
      run: "exp001",
      from,
      to: from + 5 * HOUR,
      metrics: ["gpu_util"],
      timeZone: "America/New_York",
    });
    expectReadable(layout, "DST night");
    expect(ticks(layout).length).toBeGreaterThanOrEqual(3);
  });

  it("units on every axis: each panel's heading names its unit", () => {
    const { layout } = drawRunChart(store, { run: "exp001", from: NOW - HOUR, to: NOW });
    expect(layout.texts.filter((t) => t.role === "panel-title").map((t) => t.text)).toEqual([
      "Step time (s/step)",
      "VRAM, busiest GPU (GiB)",
      "Host RAM (GiB)",
      "GPU utilisation (%)",
    ]);
    const { layout: more, image } = drawRunChart(store, {
      run: "exp001",
      from: NOW - HOUR,
      to: NOW,
      metrics: ["throughput", "loss"],
    });
    expectReadable(more, "throughput and loss");
    expect(more.texts.filter((t) => t.role === "panel-title").map((t) => t.text)).toEqual([
      "Throughput (steps/h)",
      "Loss (unitless)",
    ]);
    expect(image.alt).toMatch(/Throughput: \d{3} steps\/h; Loss: 0\.\d+$/);
  });

  it("loss reaches past the raw window through the roll-ups", () => {
    const rolled = chartStore();
    try {
      rolled.fill(NOW - 30 * DAY, NOW, 10 * MIN);
      while (rolled.sampleRollups.rollUp("exp001", NOW - 2 * DAY, 24 * 40) > 0);
      const { image } = drawRunChart(rolled, {
        run: "exp001",
        from: NOW - 30 * DAY,
        to: NOW - 3 * DAY,
        metrics: ["loss"],
      });
      expect(image.alt).toMatch(/Loss: 0\.\d+$/);
    } finally {
      rolled.close();
    }
  });

  it("crowded markers: labels stagger into rows, the rest are counted in one '…+N'", () => {
    const markers: ChartMarker[] = Array.from({ length: 20 }, (_, i) => ({
      at: NOW - 40 * MIN + i * 30_000,
      label: i % 3 === 0 ? "rollback" : i % 3 === 1 ? "restart" : `P${i}`,
      kind: i % 3 === 0 ? "rollback" : i % 3 === 1 ? "restart" : "phase",
    }));
    // And markers at both edges, whose labels must shift inwards rather than clip.
    markers.push(
      { at: NOW - 2 * HOUR, label: "P1" },
      { at: NOW - 1, label: "restart", kind: "restart" },
    );
    for (let i = 0; i < 8; i++) store.oom(NOW - 70 * MIN + i * 20_000);
    const { layout } = drawRunChart(store, {
      run: "exp001",
      from: NOW - 2 * HOUR,
      to: NOW,
      metrics: ["step_time"],
      markers,
    });
    expectReadable(layout, "crowded markers");
    const labels = layout.texts.filter((t) => t.role === "marker");
    const counts = labels
      .filter((t) => t.text.startsWith("…+"))
      .map((t) => Number(t.text.slice(2)));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(layout.droppedMarkerLabels);
    expect(layout.droppedMarkerLabels).toBeGreaterThan(0);
    // Every marker is either labelled or counted.
    const shown = labels.filter((t) => !t.text.startsWith("…+")).length;
    expect(shown + layout.droppedMarkerLabels).toBe(markers.length + 8);
    // Both edge labels are shown, inside the plot.
    const plot = layout.panels[0]?.plot as PlacedText["box"];
    expect(labels.some((t) => t.text === "P1" && t.box.x >= plot.x)).toBe(true);
    expect(labels.some((t) => t.text === "restart" && t.box.x + t.box.w <= plot.x + plot.w)).toBe(
      true,
    );
  });

  it("a verdict chart gives the judged phase at least 60 % of the width", () => {
    const startedAt = NOW - 3 * HOUR;
    const { layout } = drawRunChart(store, {
      run: "exp001",
      from: startedAt - 3 * HOUR,
      to: NOW,
      focusFrom: startedAt,
    });
    expectReadable(layout, "verdict");
    for (const panel of layout.panels) {
      const focusX = panel.focusX as number;
      expect((panel.plot.x + panel.plot.w - focusX) / panel.plot.w).toBeGreaterThanOrEqual(0.6);
    }
    // The compressed context still has its own time labels, left of the judged span.
    expect(
      layout.texts.some(
        (t) => t.role === "x-tick" && t.box.x + t.box.w < (layout.panels[0]?.focusX as number),
      ),
    ).toBe(true);
    // A short context is drawn to scale: no compression needed.
    const short = drawRunChart(store, {
      run: "exp001",
      from: startedAt - 10 * MIN,
      to: NOW,
      focusFrom: startedAt,
    });
    expect(short.layout.panels.every((p) => p.focusX === null)).toBe(true);
  });
});

describe("placeLabels", () => {
  it("keeps labels apart and inside the area, counting what it leaves out", () => {
    const wishes = Array.from({ length: 30 }, (_, i) => ({ x: 100 + i * 4, text: `P${i}` }));
    const area = { left: 0, right: 300, rows: [0, 13], rowHeight: 12 };
    const { placed, dropped } = placeLabels(wishes, area, (t) => t.length * 6);
    placed.forEach((a, i) => {
      expect(a.box.x).toBeGreaterThanOrEqual(area.left);
      expect(a.box.x + a.box.w).toBeLessThanOrEqual(area.right);
      for (const b of placed.slice(i + 1)) expect(overlaps(a.box, b.box)).toBe(false);
    });
    const more = placed.filter((p) => p.text.startsWith("…+"));
    expect(more.map((p) => p.text)).toEqual([`…+${dropped}`]);
    expect(placed.length - 1 + dropped).toBe(wishes.length);
  });

  it("places everything when there is room, and avoids obstacles", () => {
    const obstacle = { x: 50, y: 0, w: 40, h: 12 };
    const { placed, dropped } = placeLabels(
      [
        { x: 10, text: "P1" },
        { x: 55, text: "P2" },
        { x: 200, text: "rollback" },
      ],
      { left: 0, right: 300, rows: [0, 13], rowHeight: 12 },
      (t) => t.length * 6,
      [obstacle],
    );
    expect(dropped).toBe(0);
    expect(placed.map((p) => p.text)).toEqual(["P1", "P2", "rollback"]);
    for (const p of placed) expect(overlaps(p.box, obstacle)).toBe(false);
    expect(placed[1]?.box.y).toBe(13);
  });
});
