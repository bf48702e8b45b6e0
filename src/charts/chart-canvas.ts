import { type Canvas, createCanvas, type SKRSContext2D } from "@napi-rs/canvas";
import { chartFontFamily } from "./chart-font.ts";
import { type ChartLayout, ChartText } from "./chart-layout.ts";

/** A chart's white canvas, and the layout its texts are recorded in as they are drawn. */
export interface ChartCanvas {
  canvas: Canvas;
  ctx: SKRSContext2D;
  layout: ChartLayout;
  /** Draws the chart's texts in its font, recording each in `layout`. */
  text: ChartText;
}

/** Starts a chart: a `width` × `height` canvas filled white, its layout still empty. */
export function blankChart(width: number, height: number): ChartCanvas {
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext("2d");
  const layout: ChartLayout = { width, height, texts: [], panels: [], droppedMarkerLabels: 0 };
  const text = new ChartText(ctx, chartFontFamily(), layout);
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, width, height);
  return { canvas, ctx, layout, text };
}
