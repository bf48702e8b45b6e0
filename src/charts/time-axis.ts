import {
  type AxisTimeUnit,
  formatAxisTime,
  type TimeZone,
  zoneOffsetMs,
} from "../message/format.ts";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Tick steps from a second to a year: whole clock units people count in. */
const STEPS = [
  SECOND,
  2 * SECOND,
  5 * SECOND,
  10 * SECOND,
  15 * SECOND,
  30 * SECOND,
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
  28 * DAY,
  56 * DAY,
  91 * DAY,
  182 * DAY,
  364 * DAY,
];

/** Fewest pixels between two tick labels. */
const GAP = 12;

/** A stretch of time drawn over a stretch of pixels. */
export interface TimeSegment {
  from: number;
  to: number;
  x0: number;
  x1: number;
}

/**
 * Time to pixels, linear, or in two pieces when a judged span gets most of the width: the
 * context before `focusFrom` is squeezed into `contextShare` of it (it only shows what the
 * change replaced).
 */
export class TimeScale {
  readonly segments: TimeSegment[];
  /** Pixel where the judged span starts; null when the axis is linear. */
  readonly focusX: number | null;

  constructor(
    readonly from: number,
    readonly to: number,
    x0: number,
    x1: number,
    focusFrom?: number,
    contextShare = 0.25,
  ) {
    const natural = focusFrom === undefined ? 0 : (focusFrom - from) / (to - from);
    if (focusFrom !== undefined && natural > contextShare && focusFrom < to) {
      const split = x0 + (x1 - x0) * contextShare;
      this.segments = [
        { from, to: focusFrom, x0, x1: split },
        { from: focusFrom, to, x0: split, x1 },
      ];
      this.focusX = split;
    } else {
      this.segments = [{ from, to, x0, x1 }];
      this.focusX = null;
    }
  }

  /** Pixel of a moment; moments outside the window land on its edges' extension. */
  x(at: number): number {
    const segment = this.segments.find((s) => at < s.to) ?? (this.segments.at(-1) as TimeSegment);
    const span = Math.max(segment.to - segment.from, 1);
    return segment.x0 + ((at - segment.from) / span) * (segment.x1 - segment.x0);
  }
}

/** A time tick: its moment, its label, and where the label sits. */
export interface TimeTick {
  at: number;
  x: number;
  label: string;
  left: number;
  width: number;
}

/**
 * Ticks for a time axis: per segment the finest whole step (1 s … 1 year) whose labels fit
 * side by side, aligned to the zone's clock and calendar and labelled in it (`14:02:30`,
 * `14:02`, `12-07 14:02` when the axis spans over a day, `12-07`, `2026-12-07`), so no two
 * labels on an axis read the same; midnight reads as its date. Labels at the axis ends are
 * shifted inwards.
 */
export function timeTicks(
  scale: TimeScale,
  measure: (label: string) => number,
  timeZone?: TimeZone,
): TimeTick[] {
  const left = scale.segments[0]?.x0 ?? 0;
  const right = scale.segments.at(-1)?.x1 ?? 0;
  const all: TimeTick[] = [];
  // The judged span (the last segment) chooses first; the context fills in around it.
  for (const segment of [...scale.segments].reverse()) {
    for (const tick of segmentTicks(segment, scale, measure, timeZone, left, right)) {
      if (all.some((t) => t.label === tick.label)) continue;
      if (
        all.some((t) => tick.left < t.left + t.width + GAP && t.left < tick.left + tick.width + GAP)
      )
        continue;
      all.push(tick);
    }
  }
  if (!all.length && scale.to > scale.from) {
    // A window shorter than any step still says when it starts.
    const text = formatAxisTime(scale.from, "second", timeZone);
    const width = measure(text);
    all.push({ at: scale.from, x: left, label: text, width, left });
  }
  return all.sort((a, b) => a.at - b.at);
}

function segmentTicks(
  segment: TimeSegment,
  scale: TimeScale,
  measure: (label: string) => number,
  timeZone: TimeZone,
  left: number,
  right: number,
): TimeTick[] {
  const span = segment.to - segment.from;
  const pixels = segment.x1 - segment.x0;
  if (span <= 0 || pixels <= 0) return [];
  let fallback: TimeTick[] = [];
  for (const step of STEPS) {
    // Even the narrowest label ("00:00", ~30 px) needs about 40 px with its gap.
    if (span / step > pixels / 40) continue;
    const moments = stepMoments(segment.from, segment.to, step, timeZone);
    if (moments.length === 0) continue;
    const ticks = label(moments, step, timeZone, segment).map(({ at, text }) => {
      const x = scale.x(at);
      const width = measure(text);
      return {
        at,
        x,
        label: text,
        width,
        left: Math.max(left, Math.min(x - width / 2, right - width)),
      };
    });
    const fits = ticks.every((t, i) => {
      const next = ticks[i + 1];
      return !next || t.left + t.width + GAP <= next.left;
    });
    if (!fits) continue;
    if (ticks.length >= 2) return ticks;
    if (!fallback.length) fallback = ticks;
  }
  return fallback;
}

/** Moments `step` apart inside [from, to), aligned to the zone's wall clock. */
function stepMoments(from: number, to: number, step: number, timeZone: TimeZone): number[] {
  const offset = zoneOffsetMs(from, timeZone);
  const out: number[] = [];
  let local = Math.ceil((from + offset) / step) * step;
  for (let guard = 0; guard < 1000; guard++, local += step) {
    // The zone's offset at that wall time (it moves at daylight-saving changes).
    const at = local - zoneOffsetMs(local - offset, timeZone);
    if (at >= to) break;
    if (at >= from && at !== out.at(-1)) out.push(at);
  }
  return out;
}

function label(
  moments: number[],
  step: number,
  timeZone: TimeZone,
  segment: TimeSegment,
): Array<{ at: number; text: string }> {
  const first = moments[0] as number;
  const last = moments.at(-1) as number;
  const year = (at: number) => formatAxisTime(at, "year", timeZone).slice(0, 4);
  let unit: AxisTimeUnit = step < MINUTE ? "second" : step < DAY ? "minute" : "day";
  // Dates carry their year when the window reaches into another year.
  if (unit === "day" && year(segment.from) !== year(segment.to - 1)) unit = "year";
  // A clock time repeats after a day: past that, every label carries its date.
  const withDate = unit !== "day" && unit !== "year" && last - first >= DAY;
  const seen = new Set<string>();
  const out: Array<{ at: number; text: string }> = [];
  for (const at of moments) {
    const clock = formatAxisTime(at, unit, timeZone, withDate);
    // Midnight reads as the date it starts.
    const midnight =
      (unit === "second" && clock.endsWith("00:00:00")) ||
      (unit === "minute" && clock.endsWith("00:00"));
    const text = midnight ? formatAxisTime(at, "day", timeZone) : clock;
    if (seen.has(text)) continue;
    seen.add(text);
    out.push({ at, text });
  }
  return out;
}
