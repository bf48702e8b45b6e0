/**
 * The one formatter for figures people read: sizes, shares, step times, spans, counts, clock
 * times and money. Chat, alerts, verdicts, the console and the CLI all print through here, so
 * one figure reads the same on every surface (`128,000`, `0.4 GiB`, `14:02 UTC`).
 */
import { formatDuration } from "../core/duration.ts";

export { formatDuration };

/** Bytes in a GiB. */
export const GIB = 1024 ** 3;

/** An IANA time zone such as `Europe/Berlin`; undefined means UTC. */
export type TimeZone = string | undefined;

/** Bytes as GiB with one decimal: `77.4 GiB`. */
export function formatGiB(bytes: number): string {
  return formatGiBValue(bytes / GIB);
}

/** A size already in GiB, one decimal: `77.4 GiB`. */
export function formatGiBValue(gib: number): string {
  return `${gib.toFixed(1)} GiB`;
}

/** MiB (nvidia-smi's unit) as GiB. */
export function mibToGiB(mib: number): number {
  return mib / 1024;
}

/** A share (0..1) as a whole percentage: `96%`. */
export function formatPercent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/** `value` of `max` as a percentage with one decimal: `13.7%`. */
export function formatShare(value: number, max: number): string {
  return max > 0 ? `${((100 * value) / max).toFixed(1)}%` : "0%";
}

/** Seconds without the unit: one decimal from 10 s, else up to two (`18.1`, `9.4`, `0.85`). */
export function formatSecondsValue(value: number): string {
  return (value >= 10 ? value.toFixed(1) : value.toFixed(2)).replace(/\.?0+$/, "");
}

/** Seconds with the unit, for step times and other short figures: `9.4 s`, `0.85 s`. */
export function formatSeconds(value: number): string {
  return `${formatSecondsValue(value)} s`;
}

/** A long span in minutes, hours or days: `12 min`, `20.0 h`, `26.7 days`. */
export function formatSpan(seconds: number): string {
  const hours = seconds / 3600;
  if (hours < 1) return formatDuration(seconds * 1000);
  if (hours < 48) return `${hours.toFixed(1)} h`;
  return `${(hours / 24).toFixed(1)} days`;
}

/** A whole number with thousands separators: `128,000`. */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/** A ratio as a factor: `1.9x`. */
export function formatFactor(value: number): string {
  return `${value.toFixed(1)}x`;
}

/** Money in a currency (ISO 4217): `$1,650`, `€12.30` under 100, whole units above. */
export function formatMoney(amount: number, currency: string): string {
  const digits = Math.abs(amount) < 100 ? 2 : 0;
  try {
    return new Intl.NumberFormat("en-US", {
      style: "currency",
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(amount);
  } catch {
    return `${amount.toFixed(digits)} ${currency}`;
  }
}

/** Whether `zone` names a time zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

interface ZonedParts {
  date: string;
  time: string;
  seconds: string;
  zone: string;
}

/** One formatter per zone: building an Intl.DateTimeFormat costs far more than using one. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function zoned(ms: number, timeZone: TimeZone): ZonedParts {
  const zone = timeZone ?? "UTC";
  // UTC needs no zone data: the ISO form has the same fields (a chart formats hundreds of
  // candidate ticks, and Intl's formatToParts costs microseconds each).
  if (zone === "UTC") {
    const iso = new Date(ms).toISOString();
    return { date: iso.slice(0, 10), time: iso.slice(11, 16), seconds: iso.slice(17, 19), zone };
  }
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-GB", {
      timeZone: zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
      timeZoneName: "short",
    });
    formatters.set(zone, formatter);
  }
  const parts = formatter.formatToParts(new Date(ms));
  const get = (type: Intl.DateTimeFormatPartTypes) =>
    parts.find((p) => p.type === type)?.value ?? "";
  const name = get("timeZoneName");
  return {
    date: `${get("year")}-${get("month")}-${get("day")}`,
    time: `${get("hour")}:${get("minute")}`,
    seconds: get("second"),
    zone: zone === "UTC" || name === "GMT" || name === "UTC" ? "UTC" : name,
  };
}

/** Clock time in the zone, `14:02 UTC`, for "since" and "until" phrases. */
export function formatClock(ms: number, timeZone?: TimeZone): string {
  const p = zoned(ms, timeZone);
  return `${p.time} ${p.zone}`;
}

/** Clock time with seconds: `14:02:07 UTC`. */
export function formatClockSeconds(ms: number, timeZone?: TimeZone): string {
  const p = zoned(ms, timeZone);
  return `${p.time}:${p.seconds} ${p.zone}`;
}

/** Date and time in the zone: `2026-12-07 14:02 UTC`. */
export function formatDateTime(ms: number, timeZone?: TimeZone): string {
  const p = zoned(ms, timeZone);
  return `${p.date} ${p.time} ${p.zone}`;
}

/** Short date and time for tables, the zone left to the column head: `12-07 14:02`. */
export function formatShortDateTime(ms: number, timeZone?: TimeZone): string {
  const p = zoned(ms, timeZone);
  return `${p.date.slice(5)} ${p.time}`;
}

/** The zone's short name for column heads: `UTC`, `CET`. */
export function zoneName(ms: number, timeZone?: TimeZone): string {
  return zoned(ms, timeZone).zone;
}

/**
 * How finely a time-axis tick is labelled: `second` `14:02:30`, `minute` `14:02` (or
 * `12-07 14:02` when the axis crosses a date), `day` `12-07`, `year` `2026-12-07`.
 */
export type AxisTimeUnit = "second" | "minute" | "day" | "year";

/** A chart's time-axis tick in the zone, the zone itself left to the axis caption. */
export function formatAxisTime(
  ms: number,
  unit: AxisTimeUnit,
  timeZone?: TimeZone,
  withDate = false,
): string {
  const p = zoned(ms, timeZone);
  switch (unit) {
    case "second":
      return `${withDate ? `${p.date.slice(5)} ` : ""}${p.time}:${p.seconds}`;
    case "minute":
      return `${withDate ? `${p.date.slice(5)} ` : ""}${p.time}`;
    case "day":
      return p.date.slice(5);
    case "year":
      return p.date;
  }
}

/** The zone's offset from UTC at `ms` in milliseconds (`Europe/Berlin` in winter: 3,600,000). */
export function zoneOffsetMs(ms: number, timeZone?: TimeZone): number {
  if (timeZone === undefined || timeZone === "UTC") return 0;
  const p = zoned(ms, timeZone);
  const [year, month, day] = p.date.split("-").map(Number) as [number, number, number];
  const [hour, minute] = p.time.split(":").map(Number) as [number, number];
  const wall = Date.UTC(year, month - 1, day, hour, minute, Number(p.seconds));
  return wall - Math.floor(ms / 1000) * 1000;
}
