/**
 * Wall-clock times in an IANA time zone, to and from instants: what "09:00 in Europe/Berlin
 * on Monday" is in milliseconds since the epoch, and back. Recurring schedules (digests, quiet
 * hours) are written in people's local time and must keep to it across DST changes.
 */

/** A calendar day and clock time as read on a wall clock in some zone. */
export interface LocalTime {
  year: number;
  /** 1..12 */
  month: number;
  /** 1..31 */
  day: number;
  /** 0..23 */
  hour: number;
  /** 0..59 */
  minute: number;
  /** 0 = Sunday .. 6 = Saturday. */
  weekday: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(zone: string): Intl.DateTimeFormat {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      hourCycle: "h23",
    });
    formats.set(zone, format);
  }
  return format;
}

/** The wall-clock time in `zone` at instant `ms`. */
export function localTime(ms: number, zone: string): LocalTime {
  const parts = formatFor(zone).formatToParts(new Date(ms));
  const get = (type: Intl.DateTimeFormatPartTypes) =>
    Number(parts.find((p) => p.type === type)?.value ?? 0);
  const year = get("year");
  const month = get("month");
  const day = get("day");
  return {
    year,
    month,
    day,
    hour: get("hour") % 24,
    minute: get("minute"),
    weekday: new Date(Date.UTC(year, month - 1, day)).getUTCDay(),
  };
}

/** How far `zone`'s wall clock is ahead of UTC at instant `ms`, in milliseconds. */
function offsetAt(ms: number, zone: string): number {
  const t = localTime(ms, zone);
  const seconds = new Date(ms).getUTCSeconds();
  const asUtc = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, seconds);
  return asUtc - (ms - (ms % 1000));
}

/**
 * The instant the wall clock in `zone` shows `year-month-day hour:minute`. A time skipped by a
 * DST change (02:30 on a spring-forward night) maps to the instant an hour later; a time that
 * happens twice (a fall-back night) maps to one of the two.
 */
export function instantAt(
  zone: string,
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
): number {
  const guess = Date.UTC(year, month - 1, day, hour, minute);
  const first = guess - offsetAt(guess, zone);
  const second = guess - offsetAt(first, zone);
  if (first === second) return first;
  const shows = (ms: number) => {
    const t = localTime(ms, zone);
    return t.day === day && t.hour === hour && t.minute === minute;
  };
  const hits = [first, second].filter(shows);
  return hits.length ? Math.min(...hits) : Math.max(first, second);
}

/** The calendar day `days` after (or before, when negative) the given one. */
export function addDays(
  date: { year: number; month: number; day: number },
  days: number,
): { year: number; month: number; day: number; weekday: number } {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    weekday: d.getUTCDay(),
  };
}

/** Parses a 24-hour clock time `HH:MM` into minutes after midnight; null when it is not one. */
export function parseClockTime(text: string): number | null {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}
