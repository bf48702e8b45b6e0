import { type QuietWindow, WEEKDAYS } from "../config/channel-schedule-schema.ts";
import { addDays, instantAt, localTime, parseClockTime } from "../core/zoned-time.ts";

/** A quiet window as it falls on one day: from `start` (inclusive) to `end` (exclusive). */
export interface QuietSpan {
  start: number;
  end: number;
}

/**
 * The quiet window `now` falls in, or null: each window is tried as it began today and
 * yesterday in `zone` (a window such as 22:00-07:00 runs past midnight). When two windows
 * overlap, the span ends at the later end.
 */
export function quietSpanAt(
  windows: readonly QuietWindow[],
  zone: string,
  now: number,
): QuietSpan | null {
  if (windows.length === 0) return null;
  const today = localTime(now, zone);
  let found: QuietSpan | null = null;
  for (const window of windows) {
    const from = parseClockTime(window.from) as number;
    const to = parseClockTime(window.to) as number;
    for (const back of [0, -1]) {
      const day = addDays(today, back);
      if (window.days && !window.days.includes(WEEKDAYS[day.weekday] as (typeof WEEKDAYS)[number]))
        continue;
      const endDay = to > from ? day : addDays(day, 1);
      const start = instantAt(zone, day.year, day.month, day.day, Math.floor(from / 60), from % 60);
      const end = instantAt(
        zone,
        endDay.year,
        endDay.month,
        endDay.day,
        Math.floor(to / 60),
        to % 60,
      );
      if (start <= now && now < end) {
        found = found
          ? { start: Math.min(found.start, start), end: Math.max(found.end, end) }
          : { start, end };
      }
    }
  }
  return found;
}
