const ISO = /^\s*\[?(\d{4})[-/](\d{2})[-/](\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?/;
const SHORT_YEAR = /^\s*(\d{2})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?/;
// detectron2 `[09/02 02:37:24 d2...]`, mmengine `08/03 22:09:24 - mmengine`: no year printed.
const NO_YEAR = /^\s*(?:\w+ )?\[?(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})\b/;

/** The UTC time of matched date parts (month 1-based), plus a fraction of a second if any. */
function utc(year: number, [mo, d, h, mi, s]: string[], fraction: string | undefined): number {
  const millis = fraction ? Number(`0.${fraction}`) * 1000 : 0;
  return Date.UTC(year, Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) + millis;
}

/**
 * The time a log line carries at its start (Python logging, nnU-Net, BasicSR, detectron2),
 * in ms, read as UTC; null when it has none. Only differences between lines are meaningful:
 * the time zone is unknown and some formats omit the year.
 */
export function parseLineTimestamp(line: string): number | null {
  const iso = ISO.exec(line);
  if (iso) return utc(Number(iso[1]), iso.slice(2, 7), iso[7]);
  const short = SHORT_YEAR.exec(line);
  if (short) return utc(2000 + Number(short[1]), short.slice(2, 7), short[7]);
  const noYear = NO_YEAR.exec(line);
  if (noYear) return utc(2000, noYear.slice(1, 6), undefined);
  return null;
}
