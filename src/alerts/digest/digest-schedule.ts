import cron from "node-cron";
import { type DigestConfig, WEEKDAYS } from "../../config/channel-schedule-schema.ts";
import { addDays, instantAt, localTime, parseClockTime } from "../../core/zoned-time.ts";

/** How far a digest time is looked for, back or ahead: a year covers monthly and yearly ones. */
const LOOKBACK_DAYS = 366;

/** The clock times of one local day a schedule fires at, latest first, as [hour, minute]. */
type DayTimes = (day: { month: number; day: number; weekday: number }) => Array<[number, number]>;

function dayTimes(digest: DigestConfig): DayTimes {
  if (digest.cron !== undefined) {
    const fields = cron.parse(digest.cron.trim());
    const numbers = (list: ReadonlyArray<number | string>) =>
      list.filter((v): v is number => typeof v === "number");
    const minutes = numbers(fields.minute).sort((a, b) => b - a);
    const hours = numbers(fields.hour).sort((a, b) => b - a);
    const dom = numbers(fields.dayOfMonth);
    const dow = numbers(fields.dayOfWeek);
    const months = numbers(fields.month);
    const domAll = dom.length >= 31;
    const dowAll = dow.length >= 7;
    return (day) => {
      if (!months.includes(day.month)) return [];
      const domHit = dom.includes(day.day);
      const dowHit = dow.includes(day.weekday);
      // Cron's rule: with both day fields restricted, either one matching is enough.
      const hit = domAll || dowAll ? domHit && dowHit : domHit || dowHit;
      if (!hit) return [];
      return hours.flatMap((h) => minutes.map((m): [number, number] => [h, m]));
    };
  }
  const at = parseClockTime(digest.at as string) as number;
  return (day) =>
    !digest.days || digest.days.includes(WEEKDAYS[day.weekday] as (typeof WEEKDAYS)[number])
      ? [[Math.floor(at / 60), at % 60]]
      : [];
}

/**
 * The latest time at or before `now` the digest is due (its period), or null when none fell in
 * the last year. The period is the digest's identity: one digest per channel and period.
 */
export function latestDigestTime(digest: DigestConfig, zone: string, now: number): number | null {
  const times = dayTimes(digest);
  const today = localTime(now, zone);
  for (let back = 0; back <= LOOKBACK_DAYS; back++) {
    const day = addDays(today, -back);
    for (const [hour, minute] of times(day)) {
      const at = instantAt(zone, day.year, day.month, day.day, hour, minute);
      if (at <= now) return at;
    }
  }
  return null;
}

/**
 * The digest time before `period` (the start of the span a first digest covers when no earlier
 * one was recorded), or null.
 */
export function previousDigestTime(
  digest: DigestConfig,
  zone: string,
  period: number,
): number | null {
  return latestDigestTime(digest, zone, period - 60_000);
}

/** The first time after `now` the digest is due, or null when none falls in the next year. */
export function nextDigestTime(digest: DigestConfig, zone: string, now: number): number | null {
  const times = dayTimes(digest);
  const today = localTime(now, zone);
  for (let ahead = 0; ahead <= LOOKBACK_DAYS; ahead++) {
    const day = addDays(today, ahead);
    const found = times(day)
      .map(([hour, minute]) => instantAt(zone, day.year, day.month, day.day, hour, minute))
      .filter((at) => at > now);
    if (found.length) return Math.min(...found);
  }
  return null;
}
