import { createCanvas, type SKRSContext2D } from "@napi-rs/canvas";
import type { MessageImage } from "../message/message.ts";
import { chartFontFamily } from "./chart-font.ts";
import { CHART_METRICS, type ChartMetricName } from "./chart-metrics.ts";
import {
  type ChartSource,
  METRIC_STYLES,
  type MetricStyle,
  OOM_KINDS,
  OVERLAY_COLOURS,
} from "./chart-series.ts";

/** A vertical line on every panel: a phase boundary ("Phase 2") or any other moment. */
export interface ChartMarker {
  at: number;
  label: string;
}

export interface RunChartOptions {
  run: string;
  /** Window, milliseconds since the epoch, `from <= at < to`. */
  from: number;
  to: number;
  /** Panels to draw, in order; all four by default. */
  metrics?: readonly ChartMetricName[];
  /** Limits drawn as dashed red lines. */
  limits?: { gpuMemoryGiB?: number | null; hostMemoryGiB?: number | null };
  /** Phase boundaries. */
  markers?: readonly ChartMarker[];
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

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

interface PanelData {
  style: MetricStyle;
  points: Array<{ at: number; value: number }>;
  limit: number | null;
}

/**
 * Renders a PNG chart of a run: step time, VRAM against its limit, host RAM against its limit
 * and GPU utilisation over a window, with phase boundaries and OOM events marked. Reads bucketed
 * series so a 30-day window costs the same as an hour. Used by `/train status`, `/train chart`
 * and phase verdicts.
 */
export async function renderRunChart(
  source: ChartSource,
  options: RunChartOptions,
): Promise<MessageImage> {
  const width = options.width ?? 800;
  const height = options.height ?? 400;
  const metrics = options.metrics?.length ? options.metrics : CHART_METRICS;
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
  const ooms = source.events
    .range(options.run, options.from, options.to)
    .filter((e) => OOM_KINDS.has(e.kind))
    .map((e) => e.at);

  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext("2d");
  const font = chartFontFamily();
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = "#222222";
  ctx.font = `bold 14px ${font}`;
  ctx.textBaseline = "middle";
  ctx.fillText(
    options.title ?? `${options.run} - last ${spanLabel(options.to - options.from)}`,
    10,
    13,
  );
  ctx.font = `11px ${font}`;
  ctx.textAlign = "right";
  ctx.fillText(`${stamp(options.to)} UTC`, width - 10, 13);
  ctx.textAlign = "left";

  const cols = panels.length > 1 ? 2 : 1;
  const rows = Math.ceil(panels.length / cols);
  const top = 26;
  const cellW = width / cols;
  const cellH = (height - top) / rows;
  panels.forEach((panel, i) => {
    const cell = {
      x: (i % cols) * cellW,
      y: top + Math.floor(i / cols) * cellH,
      w: cellW,
      h: cellH,
    };
    drawPanel(ctx, font, cell, panel, options, ooms);
  });
  // Synchronous encoding: ~15 ms on the calling thread beats queueing behind the libuv pool
  // (SQLite, fs) when several replies are due at once.
  const png = canvas.encodeSync("png");
  const name =
    options.name ??
    `${options.run}-${metrics.length === CHART_METRICS.length ? "overview" : metrics.join("-")}.png`;
  return { name, png, alt: altText(options, panels, ooms.length) };
}

function drawPanel(
  ctx: SKRSContext2D,
  font: string,
  cell: Box,
  panel: PanelData,
  options: RunChartOptions,
  ooms: number[],
): void {
  const plot: Box = { x: cell.x + 46, y: cell.y + 22, w: cell.w - 58, h: cell.h - 44 };
  const { style, points, limit } = panel;
  const last = points.at(-1);
  ctx.fillStyle = "#222222";
  ctx.font = `bold 12px ${font}`;
  ctx.fillText(style.title, cell.x + 8, cell.y + 10);
  if (last) {
    ctx.font = `12px ${font}`;
    ctx.textAlign = "right";
    ctx.fillText(
      `${formatValue(last.value)} ${style.unit}${limit ? ` / ${formatValue(limit)}` : ""}`,
      cell.x + cell.w - 10,
      cell.y + 10,
    );
    ctx.textAlign = "left";
  }
  const maxValue = Math.max(...points.map((p) => p.value), limit ?? 0, 0);
  const yMax = style.fixedMax ?? niceCeil(maxValue * 1.08 || 1);
  const x = (at: number) => plot.x + ((at - options.from) / (options.to - options.from)) * plot.w;
  const y = (v: number) => plot.y + plot.h - (Math.min(v, yMax) / yMax) * plot.h;

  // Axes and grid.
  ctx.strokeStyle = "#e3e3e3";
  ctx.lineWidth = 1;
  ctx.font = `10px ${font}`;
  ctx.fillStyle = "#555555";
  ctx.textAlign = "right";
  for (let t = 0; t <= 4; t++) {
    const v = (yMax * t) / 4;
    const py = Math.round(y(v)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(plot.x, py);
    ctx.lineTo(plot.x + plot.w, py);
    ctx.stroke();
    ctx.fillText(formatValue(v), plot.x - 4, py);
  }
  for (let t = 0; t <= 2; t++) {
    const at = options.from + ((options.to - options.from) * t) / 2;
    // Edge labels align inwards so they are not cut off at the panel's border.
    ctx.textAlign = t === 0 ? "left" : t === 2 ? "right" : "center";
    ctx.fillText(timeLabel(at, options.to - options.from), x(at), plot.y + plot.h + 10);
  }
  ctx.textAlign = "left";

  // Phase boundaries, then OOM events, under the series.
  ctx.setLineDash([3, 3]);
  for (const marker of options.markers ?? []) {
    if (marker.at < options.from || marker.at >= options.to) continue;
    vertical(ctx, x(marker.at), plot, OVERLAY_COLOURS.phase, 1);
    ctx.fillStyle = OVERLAY_COLOURS.phase;
    ctx.fillText(marker.label, x(marker.at) + 3, plot.y + 6);
  }
  ctx.setLineDash([]);
  for (const at of ooms) {
    vertical(ctx, x(at), plot, OVERLAY_COLOURS.oom, 2);
    ctx.fillStyle = OVERLAY_COLOURS.oom;
    ctx.fillText("OOM", x(at) + 3, plot.y + plot.h - 6);
  }
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

  if (points.length === 0) {
    ctx.fillStyle = "#888888";
    ctx.font = `12px ${font}`;
    ctx.textAlign = "center";
    ctx.fillText("no data in this window", plot.x + plot.w / 2, plot.y + plot.h / 2);
    ctx.textAlign = "left";
    return;
  }
  // The series; a gap of more than three buckets (VM unreachable, bot down) breaks the line.
  const gap = (3 * (options.to - options.from)) / Math.max(points.length, 1);
  ctx.strokeStyle = style.colour;
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
  if (points.length === 1)
    ctx.lineTo(x((points[0] as { at: number }).at) + 2, y((points[0] as { value: number }).value));
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

function niceCeil(value: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10])
    if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

function formatValue(v: number): string {
  if (v === 0) return "0";
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1).replace(/\.0$/, "");
  return v.toFixed(2).replace(/0$/, "").replace(/\.0$/, "");
}

function spanLabel(ms: number): string {
  const hours = ms / 3_600_000;
  if (ms < 90_000) return `${Math.max(1, Math.round(ms / 1000))} s`;
  if (hours < 1) return `${Math.round(ms / 60_000)} min`;
  if (hours <= 48) return `${Number(hours.toFixed(1))} h`;
  return `${Number((hours / 24).toFixed(1))} days`;
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace("T", " ");
}

function timeLabel(ms: number, span: number): string {
  const iso = new Date(ms).toISOString();
  return span > 2 * 86_400_000 ? iso.slice(5, 10) : iso.slice(11, 16);
}

function altText(options: RunChartOptions, panels: PanelData[], oomCount: number): string {
  const parts = panels.map((p) => {
    const last = p.points.at(-1);
    return `${p.style.title}: ${last ? `${formatValue(last.value)} ${p.style.unit}` : "no data"}${p.limit ? ` (limit ${formatValue(p.limit)} ${p.style.unit})` : ""}`;
  });
  const oom = oomCount ? `; ${oomCount} OOM event${oomCount > 1 ? "s" : ""}` : "";
  const head = options.title ?? `${options.run}, last ${spanLabel(options.to - options.from)}`;
  return `${head}: ${parts.join("; ")}${oom}`;
}
