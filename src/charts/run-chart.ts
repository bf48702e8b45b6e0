import type { SKRSContext2D } from "@napi-rs/canvas";
import { formatDateTime, formatSpan, type TimeZone, zoneName } from "../message/format.ts";
import type { MessageImage } from "../message/message.ts";
import { blankChart } from "./chart-canvas.ts";
import { type Box, type ChartLayout, type ChartText, textHeight } from "./chart-layout.ts";
import { type ChartMetricName, OVERVIEW_METRICS } from "./chart-metrics.ts";
import {
  type ChartSource,
  METRIC_STYLES,
  type MetricStyle,
  OOM_KINDS,
  OVERLAY_COLOURS,
} from "./chart-series.ts";
import { type LabelWish, placeLabels } from "./label-placement.ts";
import { encodeChartPng } from "./png-encoding.ts";
import { TimeScale, timeTicks } from "./time-axis.ts";
import { valueAxis } from "./value-axis.ts";
import { drawValueGrid, TICK } from "./value-grid.ts";

/** What a marker stands for; it picks the colour and where its label goes. */
export type ChartMarkerKind = "phase" | "rollback" | "restart" | "oom";

/** A vertical line on every panel: a phase boundary ("P2"), a rollback, a restart, an OOM. */
export interface ChartMarker {
  at: number;
  label: string;
  /** "phase" when left out. */
  kind?: ChartMarkerKind;
}

/** What a run chart shows: which run, which window and metrics, and what to mark on it. */
export interface RunChartOptions {
  run: string;
  /** Window, milliseconds since the epoch, `from <= at < to`. */
  from: number;
  to: number;
  /** Panels to draw, in order; the overview's four by default. */
  metrics?: readonly ChartMetricName[];
  /** Limits drawn as dashed red lines. */
  limits?: { gpuMemoryGiB?: number | null; hostMemoryGiB?: number | null };
  /** Phase boundaries, rollbacks and restarts (OOMs are read from the events). */
  markers?: readonly ChartMarker[];
  /**
   * Start of the span the chart is about (a judged phase): it gets most of the width and the
   * context before it is compressed.
   */
  focusFrom?: number;
  /** Zone of the time axis and the clock in the heading (the config's `timezone`); UTC by default. */
  timeZone?: TimeZone;
  /** Pixels; 800×400 reads well in Discord and Slack at their default size. */
  width?: number;
  height?: number;
  /** Points per series (bucketed averages). */
  buckets?: number;
  /** File name of the image; defaults to `<run>-<metrics>.png`. */
  name?: string;
  /** Heading, e.g. "exp001: Phase 1 passed"; defaults to "<run> - last <window>". */
  title?: string;
}

/** Share of the width the context before a judged span keeps. */
export const CONTEXT_SHARE = 0.25;

interface PanelData {
  style: MetricStyle;
  points: Array<{ at: number; value: number }>;
  limit: number | null;
}

const MARKER_COLOURS: Record<ChartMarkerKind, string> = {
  phase: OVERLAY_COLOURS.phase,
  rollback: "#b35900",
  restart: "#1f5fa8",
  oom: OVERLAY_COLOURS.oom,
};

/**
 * Renders a PNG chart of a run: step time, VRAM against its limit, host RAM against its limit
 * and GPU utilisation over a window, with phase boundaries, rollbacks, restarts and OOM events
 * marked. Reads bucketed series so a 30-day window costs the same as an hour. Used by
 * `/train status`, `/train chart` and phase verdicts.
 */
export async function renderRunChart(
  source: ChartSource,
  options: RunChartOptions,
): Promise<MessageImage> {
  return drawRunChart(source, options).image;
}

/** {@link renderRunChart}, with the layout of everything it placed. */
export function drawRunChart(
  source: ChartSource,
  options: RunChartOptions,
): { image: MessageImage; layout: ChartLayout } {
  const width = options.width ?? 800;
  const height = options.height ?? 400;
  const metrics = options.metrics?.length ? options.metrics : OVERVIEW_METRICS;
  const buckets = options.buckets ?? Math.min(400, Math.floor(width / 2));
  const styles = metrics.map((metric) => METRIC_STYLES[metric]);
  const columns = styles.map((style) => style.column);
  const many = source.samples.seriesMany?.(options.run, columns, options.from, options.to, buckets);
  const panels: PanelData[] = styles.map((style) => {
    const raw =
      many?.[style.column] ??
      source.samples.series(options.run, style.column, options.from, options.to, buckets);
    const points = raw.map((p) => ({ at: p.at, value: style.scale(p.value) }));
    const limit = style.limitKey ? (options.limits?.[style.limitKey] ?? null) : null;
    return { style, points, limit };
  });
  const ooms: ChartMarker[] = source.events
    .range(options.run, options.from, options.to)
    .filter((e) => OOM_KINDS.has(e.kind))
    .map((e) => ({ at: e.at, label: "OOM", kind: "oom" }));
  const markers = [...(options.markers ?? []), ...ooms].filter(
    (m) => m.at >= options.from && m.at < options.to,
  );

  const { canvas, ctx, layout, text } = blankChart(width, height);

  // Heading: the title on the left, the clock of the window's end on the right.
  const stampStyle = { size: 11, align: "right" as const };
  const stampText = formatDateTime(options.to, options.timeZone);
  const stampBox = text.draw("stamp", null, stampText, width - 10, 13, stampStyle);
  const titleStyle = { size: 14, bold: true };
  const title = text.fit(
    options.title ?? `${options.run} - last ${formatSpan((options.to - options.from) / 1000)}`,
    stampBox.x - 10 - 12,
    titleStyle,
  );
  text.draw("title", null, title, 10, 13, titleStyle);

  const cols = panels.length > 1 ? 2 : 1;
  const rows = Math.ceil(panels.length / cols);
  const top = 26;
  const cellW = width / cols;
  const cellH = (height - top) / rows;
  let dropped = 0;
  panels.forEach((panel, i) => {
    const cell = {
      x: (i % cols) * cellW,
      y: top + Math.floor(i / cols) * cellH,
      w: cellW,
      h: cellH,
    };
    dropped += drawPanel(ctx, text, i, cell, panel, options, markers);
  });
  layout.droppedMarkerLabels = dropped;
  // Synchronous encoding: ~7 ms on the calling thread beats queueing behind the libuv pool
  // (SQLite, fs) when several replies are due at once.
  const png = encodeChartPng(canvas);
  const name =
    options.name ??
    `${options.run}-${metrics.join() === OVERVIEW_METRICS.join() ? "overview" : metrics.join("-")}.png`;
  return { image: { name, png, alt: altText(options, panels, ooms.length) }, layout };
}

/** Draws one metric's panel; returns how many marker labels it had to leave out. */
function drawPanel(
  ctx: SKRSContext2D,
  text: ChartText,
  index: number,
  cell: Box,
  panel: PanelData,
  options: RunChartOptions,
  markers: readonly ChartMarker[],
): number {
  const { style, points, limit } = panel;
  const maxValue = Math.max(...points.map((p) => p.value), limit ?? 0, 0);
  const axis = valueAxis(maxValue * 1.05, style.fixedMax);
  const zone = zoneName(options.to, options.timeZone);
  // The left margin fits the widest value label and the time axis' zone under it.
  const labelWidth = Math.max(
    ...axis.ticks.map((t) => text.measure(t.label, TICK)),
    text.measure(zone, TICK),
  );
  const plotX = cell.x + 8 + labelWidth + 5;
  const plot: Box = { x: plotX, y: cell.y + 26, w: cell.x + cell.w - 14 - plotX, h: cell.h - 48 };
  const scale = new TimeScale(
    options.from,
    options.to,
    plot.x,
    plot.x + plot.w,
    options.focusFrom,
    CONTEXT_SHARE,
  );
  const x = (at: number) => scale.x(at);
  const y = (v: number) => plot.y + plot.h - (Math.min(v, axis.max) / axis.max) * plot.h;
  text.layout.panels.push({ title: style.title, cell, plot, focusX: scale.focusX });

  // Heading of the panel: the metric and its unit (the y axis' label), the latest value.
  const last = points.at(-1);
  let valueBox: Box | null = null;
  if (last) {
    valueBox = text.draw(
      "panel-value",
      index,
      `${withUnit(last.value, style.unit)}${limit ? ` / ${formatValue(limit)}` : ""}`,
      cell.x + cell.w - 10,
      cell.y + 10,
      { size: 12, align: "right" },
    );
  }
  const headStyle = { size: 12, bold: true };
  const head = text.fit(
    `${style.title} (${style.axisUnit ?? style.unit})`,
    (valueBox ? valueBox.x - 10 : cell.x + cell.w - 10) - (cell.x + 8),
    headStyle,
  );
  text.draw("panel-title", index, head, cell.x + 8, cell.y + 10, headStyle);

  // The context before a judged span, shaded so its compressed time reads as such.
  if (scale.focusX !== null) {
    ctx.fillStyle = "#f3f3f3";
    ctx.fillRect(plot.x, plot.y, scale.focusX - plot.x, plot.h);
  }

  // Value grid and labels.
  drawValueGrid(ctx, text, index, axis, y, plot);
  // Time grid and labels, and the zone they are in.
  const tickY = plot.y + plot.h + 13;
  for (const tick of timeTicks(scale, (label) => text.measure(label, TICK), options.timeZone)) {
    const px = Math.round(tick.x) + 0.5;
    ctx.strokeStyle = "#ececec";
    ctx.beginPath();
    ctx.moveTo(px, plot.y);
    ctx.lineTo(px, plot.y + plot.h + 3);
    ctx.stroke();
    text.draw("x-tick", index, tick.label, tick.left, tickY, TICK);
  }
  text.draw("x-unit", index, zone, plot.x - 5, tickY, { ...TICK, align: "right" });
  ctx.strokeStyle = "#bbbbbb";
  ctx.beginPath();
  ctx.moveTo(plot.x, plot.y + plot.h + 0.5);
  ctx.lineTo(plot.x + plot.w, plot.y + plot.h + 0.5);
  ctx.stroke();

  // Markers under the series: phase boundaries dashed, OOMs solid.
  for (const marker of markers) {
    const kind = marker.kind ?? "phase";
    ctx.setLineDash(kind === "oom" ? [] : [3, 3]);
    vertical(ctx, x(marker.at), plot, MARKER_COLOURS[kind], kind === "oom" ? 2 : 1);
  }
  ctx.setLineDash([]);
  if (limit) {
    ctx.setLineDash([6, 4]);
    ctx.strokeStyle = OVERLAY_COLOURS.limit;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(plot.x, y(limit));
    ctx.lineTo(plot.x + plot.w, y(limit));
    ctx.stroke();
    ctx.setLineDash([]);
  }

  const obstacles: Box[] = [];
  if (points.length === 0) {
    obstacles.push(
      text.draw("note", index, "no data in this window", plot.x + plot.w / 2, plot.y + plot.h / 2, {
        size: 12,
        align: "center",
        colour: "#888888",
      }),
    );
  } else drawSeries(ctx, points, style.colour, x, y, (options.to - options.from) / points.length);

  // Marker labels: phases, rollbacks and restarts along the top, OOMs along the bottom.
  const row = textHeight(TICK.size);
  const groups: Array<{ wishes: LabelWish[]; rows: number[]; colours: Map<string, string> }> = [
    { wishes: [], rows: [plot.y + 2, plot.y + 3 + row], colours: new Map() },
    {
      wishes: [],
      rows: [plot.y + plot.h - 2 - row, plot.y + plot.h - 3 - 2 * row],
      colours: new Map(),
    },
  ];
  for (const marker of markers) {
    const kind = marker.kind ?? "phase";
    const group = groups[kind === "oom" ? 1 : 0] as (typeof groups)[number];
    group.wishes.push({ x: x(marker.at), text: marker.label });
    group.colours.set(marker.label, MARKER_COLOURS[kind]);
  }
  let dropped = 0;
  for (const group of groups) {
    if (!group.wishes.length) continue;
    const result = placeLabels(
      group.wishes,
      { left: plot.x + 1, right: plot.x + plot.w - 1, rows: group.rows, rowHeight: row },
      (label) => text.measure(label, TICK),
      obstacles,
    );
    dropped += result.dropped;
    for (const placed of result.placed) {
      // A white backing keeps the label readable over the grid and the series.
      ctx.fillStyle = "rgba(255,255,255,0.85)";
      ctx.fillRect(placed.box.x - 1, placed.box.y, placed.box.w + 2, placed.box.h);
      const box = text.draw(
        "marker",
        index,
        placed.text,
        placed.box.x,
        placed.box.y + placed.box.h / 2,
        { ...TICK, colour: group.colours.get(placed.text) ?? OVERLAY_COLOURS.phase },
      );
      obstacles.push(box);
    }
  }
  return dropped;
}

function drawSeries(
  ctx: SKRSContext2D,
  points: ReadonlyArray<{ at: number; value: number }>,
  colour: string,
  x: (at: number) => number,
  y: (v: number) => number,
  bucketMs: number,
): void {
  // A gap of more than three buckets (VM unreachable, bot down) breaks the line.
  const gap = 3 * bucketMs;
  ctx.strokeStyle = colour;
  ctx.lineWidth = 2;
  ctx.beginPath();
  let previous: number | null = null;
  for (const point of points) {
    const px = x(point.at);
    const py = y(point.value);
    if (previous === null || point.at - previous > gap) ctx.moveTo(px, py);
    else ctx.lineTo(px, py);
    previous = point.at;
  }
  const only = points.length === 1 ? points[0] : undefined;
  if (only) ctx.lineTo(x(only.at) + 2, y(only.value));
  ctx.stroke();
}

function vertical(
  ctx: SKRSContext2D,
  px: number,
  plot: Box,
  colour: string,
  lineWidth: number,
): void {
  ctx.strokeStyle = colour;
  ctx.lineWidth = lineWidth;
  ctx.beginPath();
  ctx.moveTo(px, plot.y);
  ctx.lineTo(px, plot.y + plot.h);
  ctx.stroke();
}

function formatValue(v: number): string {
  if (v === 0) return "0";
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1).replace(/\.0$/, "");
  return v.toFixed(2).replace(/0$/, "").replace(/\.0$/, "");
}

function withUnit(v: number, unit: string): string {
  return unit ? `${formatValue(v)} ${unit}` : formatValue(v);
}

function altText(options: RunChartOptions, panels: PanelData[], oomCount: number): string {
  const parts = panels.map((p) => {
    const last = p.points.at(-1);
    return `${p.style.title}: ${last ? withUnit(last.value, p.style.unit) : "no data"}${p.limit ? ` (limit ${withUnit(p.limit, p.style.unit)})` : ""}`;
  });
  const oom = oomCount ? `; ${oomCount} OOM event${oomCount > 1 ? "s" : ""}` : "";
  const head =
    options.title ?? `${options.run}, last ${formatSpan((options.to - options.from) / 1000)}`;
  return `${head}: ${parts.join("; ")}${oom}`;
}
