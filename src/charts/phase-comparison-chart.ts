import type { SKRSContext2D } from "@napi-rs/canvas";
import type { MessageImage } from "../message/message.ts";
import { blankChart } from "./chart-canvas.ts";
import type { Box, ChartLayout, ChartText } from "./chart-layout.ts";
import { encodeChartPng } from "./png-encoding.ts";
import { valueAxis } from "./value-axis.ts";
import { drawValueGrid, TICK } from "./value-grid.ts";

/** Where a phase stands, as its bar's colour says. */
export type PhaseBarState =
  | "baseline"
  | "passed"
  | "failed"
  | "measuring"
  | "inconclusive"
  | "pending";

/** One phase of a plan as a pair of bars. */
export interface PhaseBar {
  /** Short axis label: "Base", "P1". */
  label: string;
  /** Seconds per step; null when not measured (no bar). */
  stepTimeSeconds: number | null;
  /** In the chart's `throughputUnit`; null when not measured. */
  throughput: number | null;
  state: PhaseBarState;
}

/** What `/train plan`'s chart shows: the plan's phases, measured or not, and how to name it. */
export interface PhaseComparisonOptions {
  run: string;
  /** Heading, e.g. "exp001: safe-optimization, step time and throughput per phase". */
  title: string;
  /** In plan order, the baseline (phase 0) first. */
  phases: readonly PhaseBar[];
  /** Unit of `throughput`: "samples/s" when batch sizes are known, else "steps/h". */
  throughputUnit: string;
  /** Pixels; 800×360 by default. */
  width?: number;
  height?: number;
  /** File name; `<run>-plan.png` by default. */
  name?: string;
}

/** Bar colours by state, exported so tests can look for them. */
export const PHASE_BAR_COLOURS: Record<PhaseBarState, string> = {
  baseline: "#7f7f7f",
  passed: "#2ca02c",
  failed: "#d62728",
  measuring: "#1f77b4",
  inconclusive: "#bcbd22",
  pending: "#cccccc",
};

/** Colour of the baseline's dashed line across each panel. */
export const BASELINE_COLOUR = "#444444";

/**
 * Renders `/train plan`'s comparison: per phase, step time (lower is better) and throughput
 * (higher is better) as bars side by side, the baseline's value as a dashed line across each
 * panel so every phase reads against it. Phases not measured yet keep their slot, marked "–".
 */
export async function renderPhaseComparison(
  options: PhaseComparisonOptions,
): Promise<MessageImage> {
  return drawPhaseComparison(options).image;
}

/** {@link renderPhaseComparison}, with the layout of everything it placed. */
export function drawPhaseComparison(options: PhaseComparisonOptions): {
  image: MessageImage;
  layout: ChartLayout;
} {
  const width = options.width ?? 800;
  const height = options.height ?? 360;
  const { canvas, ctx, layout, text } = blankChart(width, height);
  const titleStyle = { size: 14, bold: true };
  text.draw("title", null, text.fit(options.title, width - 20, titleStyle), 10, 13, titleStyle);

  const top = 26;
  const legendY = height - 10;
  const cellW = width / 2;
  const cellH = legendY - 10 - top;
  const panels = [
    {
      title: "Step time",
      unit: "s/step",
      hint: "lower is faster",
      value: (p: PhaseBar) => p.stepTimeSeconds,
    },
    {
      title: "Throughput",
      unit: options.throughputUnit,
      hint: "higher is faster",
      value: (p: PhaseBar) => p.throughput,
    },
  ];
  panels.forEach((panel, i) => {
    const cell = { x: i * cellW, y: top, w: cellW, h: cellH };
    drawBars(ctx, text, i, cell, panel, options.phases);
  });
  drawLegend(ctx, text, options.phases, legendY, width);

  const png = encodeChartPng(canvas);
  return {
    image: { name: options.name ?? `${options.run}-plan.png`, png, alt: altText(options) },
    layout,
  };
}

function drawBars(
  ctx: SKRSContext2D,
  text: ChartText,
  index: number,
  cell: Box,
  panel: { title: string; unit: string; hint: string; value: (p: PhaseBar) => number | null },
  phases: readonly PhaseBar[],
): void {
  const values = phases.map(panel.value);
  const highest = Math.max(0, ...values.map((v) => v ?? 0));
  const axis = valueAxis(highest * 1.15);
  const labelWidth = Math.max(...axis.ticks.map((t) => text.measure(t.label, TICK)));
  const plotX = cell.x + 8 + labelWidth + 5;
  const plot: Box = { x: plotX, y: cell.y + 26, w: cell.x + cell.w - 14 - plotX, h: cell.h - 46 };
  text.layout.panels.push({ title: panel.title, cell, plot, focusX: null });
  const y = (v: number) => plot.y + plot.h - (Math.min(v, axis.max) / axis.max) * plot.h;

  const hintBox = text.draw("panel-value", index, panel.hint, cell.x + cell.w - 10, cell.y + 10, {
    size: 11,
    align: "right",
    colour: "#777777",
  });
  const headStyle = { size: 12, bold: true };
  text.draw(
    "panel-title",
    index,
    text.fit(`${panel.title} (${panel.unit})`, hintBox.x - 10 - (cell.x + 8), headStyle),
    cell.x + 8,
    cell.y + 10,
    headStyle,
  );

  drawValueGrid(ctx, text, index, axis, y, plot);

  const slot = plot.w / Math.max(phases.length, 1);
  const barW = Math.max(4, Math.min(44, slot * 0.6));
  const labelY = plot.y + plot.h + 12;
  // Axis labels: "Base", "P1", …; when a slot is too narrow for them, every other one.
  const widest = Math.max(...phases.map((p) => text.measure(p.label, TICK)));
  const every = Math.max(1, Math.ceil((widest + 4) / slot));
  phases.forEach((phase, i) => {
    const centre = plot.x + slot * (i + 0.5);
    const value = values[i] ?? null;
    if (i % every === 0)
      text.draw("bar-label", index, phase.label, centre, labelY, { ...TICK, align: "center" });
    if (value === null) {
      text.draw("bar-value", index, "–", centre, plot.y + plot.h - 8, {
        ...TICK,
        align: "center",
        colour: "#999999",
      });
      return;
    }
    const barTop = y(value);
    ctx.fillStyle = PHASE_BAR_COLOURS[phase.state];
    ctx.fillRect(centre - barW / 2, barTop, barW, plot.y + plot.h - barTop);
    const label = formatBarValue(value);
    if (text.measure(label, TICK) <= slot - 2)
      text.draw("bar-value", index, label, centre, barTop - 8, {
        ...TICK,
        align: "center",
        colour: "#222222",
      });
  });

  // The baseline across the panel, so each phase reads against it.
  const base = phases.findIndex((p) => p.state === "baseline");
  const baseValue = base >= 0 ? (values[base] ?? null) : null;
  if (baseValue !== null) {
    ctx.setLineDash([6, 4]);
    ctx.strokeStyle = BASELINE_COLOUR;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(plot.x, Math.round(y(baseValue)) + 0.5);
    ctx.lineTo(plot.x + plot.w, Math.round(y(baseValue)) + 0.5);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  ctx.strokeStyle = "#bbbbbb";
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(plot.x, plot.y + plot.h + 0.5);
  ctx.lineTo(plot.x + plot.w, plot.y + plot.h + 0.5);
  ctx.stroke();
}

/** One swatch per state the bars use, and the baseline's dashed line. */
function drawLegend(
  ctx: SKRSContext2D,
  text: ChartText,
  phases: readonly PhaseBar[],
  y: number,
  width: number,
): void {
  const names: Record<PhaseBarState, string> = {
    baseline: "baseline",
    passed: "passed",
    failed: "failed",
    measuring: "measuring",
    inconclusive: "inconclusive",
    pending: "not run",
  };
  const used = new Set(
    phases.filter((p) => p.stepTimeSeconds !== null || p.throughput !== null).map((p) => p.state),
  );
  let x = 10;
  for (const state of Object.keys(names) as PhaseBarState[]) {
    if (!used.has(state)) continue;
    ctx.fillStyle = PHASE_BAR_COLOURS[state];
    ctx.fillRect(x, y - 5, 10, 10);
    const box = text.draw("legend", null, names[state], x + 14, y, { ...TICK, colour: "#333333" });
    x = box.x + box.w + 14;
  }
  if (used.has("baseline")) {
    ctx.setLineDash([6, 4]);
    ctx.strokeStyle = BASELINE_COLOUR;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(x, y + 0.5);
    ctx.lineTo(x + 20, y + 0.5);
    ctx.stroke();
    ctx.setLineDash([]);
    const label = "baseline's value";
    if (x + 24 + text.measure(label, TICK) <= width - 10)
      text.draw("legend", null, label, x + 24, y, { ...TICK, colour: "#333333" });
  }
}

function formatBarValue(v: number): string {
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1).replace(/\.0$/, "");
  return v.toFixed(2).replace(/0$/, "").replace(/\.0$/, "");
}

function altText(options: PhaseComparisonOptions): string {
  const parts = options.phases.map((p) =>
    p.stepTimeSeconds === null
      ? `${p.label} not measured`
      : `${p.label} ${formatBarValue(p.stepTimeSeconds)} s/step${p.throughput !== null ? `, ${formatBarValue(p.throughput)} ${options.throughputUnit}` : ""}`,
  );
  return `${options.title}: ${parts.join("; ")}`;
}
