import type { SKRSContext2D } from "@napi-rs/canvas";

/** A rectangle in canvas pixels. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** What a piece of text on a chart is, so a test can pick the ones it checks. */
export type TextRole =
  | "title"
  | "stamp"
  | "panel-title"
  | "panel-value"
  | "y-tick"
  | "x-tick"
  | "x-unit"
  | "marker"
  | "note"
  | "bar-label"
  | "bar-value"
  | "legend";

/** One piece of text as drawn: its words and the box it covers. */
export interface PlacedText {
  role: TextRole;
  /** Index of the panel it belongs to; null for the chart's heading. */
  panel: number | null;
  text: string;
  box: Box;
}

/** Where a panel sits and how its time axis is split. */
export interface PanelLayout {
  title: string;
  cell: Box;
  plot: Box;
  /** Where the judged span starts, in pixels, when the context before it is compressed. */
  focusX: number | null;
}

/**
 * Everything a chart placed, for checks that look at geometry instead of pixels: no two labels
 * overlap, none leaves the canvas, no two ticks on an axis read the same.
 */
export interface ChartLayout {
  width: number;
  height: number;
  texts: PlacedText[];
  panels: PanelLayout[];
  /** Marker labels left out because they did not fit, counted in a "…+N" label instead. */
  droppedMarkerLabels: number;
}

/**
 * Whether two boxes share any area, `padX` pixels of air beside a box (and `padY` above and
 * below it) counted as area.
 */
export function overlaps(a: Box, b: Box, padX = 0, padY = 0): boolean {
  return (
    a.x < b.x + b.w + padX &&
    b.x < a.x + a.w + padX &&
    a.y < b.y + b.h + padY &&
    b.y < a.y + a.h + padY
  );
}

/** The height a line of text takes at `size` pixels. */
export function textHeight(size: number): number {
  return size + 2;
}

/** How a line of text is drawn. */
export interface TextStyle {
  size: number;
  bold?: boolean;
  align?: "left" | "center" | "right";
  colour?: string;
}

/**
 * Draws text and records its box in the layout, so what the picture shows and what a test
 * checks are the same thing. Text is vertically centred on `y`.
 */
export class ChartText {
  /**
   * Widths measured so far, by font and text: a chart measures the same tick labels for each
   * panel and each candidate step, and every native measurement sets the font again.
   */
  private readonly widths = new Map<string, number>();
  /** The font last set on the context, so an unchanged one is not parsed again. */
  private current = "";

  constructor(
    private readonly ctx: SKRSContext2D,
    private readonly family: string,
    readonly layout: ChartLayout,
  ) {}

  private fontOf(style: TextStyle): string {
    return `${style.bold ? "bold " : ""}${style.size}px ${this.family}`;
  }

  private font(style: TextStyle): void {
    const font = this.fontOf(style);
    if (font === this.current) return;
    this.ctx.font = font;
    this.current = font;
  }

  /** Width of `text` in pixels in `style`. */
  measure(text: string, style: TextStyle): number {
    const key = `${this.fontOf(style)}\u0000${text}`;
    let width = this.widths.get(key);
    if (width === undefined) {
      this.font(style);
      width = Math.ceil(this.ctx.measureText(text).width);
      this.widths.set(key, width);
    }
    return width;
  }

  /** The box `text` would cover drawn at (x, y) in `style`. */
  boxOf(text: string, x: number, y: number, style: TextStyle): Box {
    const w = this.measure(text, style);
    const h = textHeight(style.size);
    const left = style.align === "right" ? x - w : style.align === "center" ? x - w / 2 : x;
    return { x: left, y: y - h / 2, w, h };
  }

  /** Draws `text` and records it; returns its box. */
  draw(
    role: TextRole,
    panel: number | null,
    text: string,
    x: number,
    y: number,
    style: TextStyle,
  ): Box {
    const box = this.boxOf(text, x, y, style);
    this.font(style);
    this.ctx.fillStyle = style.colour ?? "#222222";
    this.ctx.textAlign = "left";
    this.ctx.textBaseline = "middle";
    this.ctx.fillText(text, box.x, y);
    this.layout.texts.push({ role, panel, text, box });
    return box;
  }

  /**
   * `text` cut with an ellipsis to at most `maxWidth` pixels in `style` (a long run name must
   * not run into the clock beside it).
   */
  fit(text: string, maxWidth: number, style: TextStyle): string {
    if (this.measure(text, style) <= maxWidth) return text;
    let cut = text;
    while (cut.length > 1 && this.measure(`${cut}…`, style) > maxWidth) cut = cut.slice(0, -1);
    return `${cut.trimEnd()}…`;
  }
}
