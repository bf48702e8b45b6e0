import type { SKRSContext2D } from "@napi-rs/canvas";
import type { Box, ChartText } from "./chart-layout.ts";
import type { ValueAxis } from "./value-axis.ts";

/** The style of every tick label and small chart text. */
export const TICK = { size: 10, colour: "#555555" } as const;

/**
 * Draws a panel's value grid: a light line across `plot` at each tick of `axis`, its label
 * right-aligned left of the plot (recorded as the panel's `y-tick` texts).
 */
export function drawValueGrid(
  ctx: SKRSContext2D,
  text: ChartText,
  panel: number,
  axis: ValueAxis,
  y: (value: number) => number,
  plot: Box,
): void {
  ctx.strokeStyle = "#e3e3e3";
  ctx.lineWidth = 1;
  for (const tick of axis.ticks) {
    const py = Math.round(y(tick.value)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(plot.x, py);
    ctx.lineTo(plot.x + plot.w, py);
    ctx.stroke();
    text.draw("y-tick", panel, tick.label, plot.x - 5, py, { ...TICK, align: "right" });
  }
}
