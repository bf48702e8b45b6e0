const ISO = /^\s*\[?(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?/;
const SHORT_YEAR = /^\s*(\d{2})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?/;
// detectron2 `[09/02 02:37:24 d2...]`, mmengine `08/03 22:09:24 - mmengine`: no year printed.
const NO_YEAR = /^\s*(?:\w+ )?\[?(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})\b/;

function ms(fraction: string | undefined): number {
  return fraction ? Number(`0.${fraction}`) * 1000 : 0;
}

/**
 * The time a log line carries at its start (Python logging, nnU-Net, BasicSR, detectron2),
 * in ms, read as UTC; null when it has none. Only differences between lines are meaningful:
 * the time zone is unknown and some formats omit the year.
 */
export function parseLineTimestamp(line: string): number | null {
  let m = ISO.exec(line);
  if (m) {
    const [, y, mo, d, h, mi, s, f] = m;
    return (
      Date.UTC(
        +(y as string),
        +(mo as string) - 1,
        +(d as string),
        +(h as string),
        +(mi as string),
        +(s as string),
      ) + ms(f)
    );
  }
  m = SHORT_YEAR.exec(line);
  if (m) {
    const [, y, mo, d, h, mi, s, f] = m;
    return (
      Date.UTC(
        2000 + +(y as string),
        +(mo as string) - 1,
        +(d as string),
        +(h as string),
        +(mi as string),
        +(s as string),
      ) + ms(f)
    );
  }
  m = NO_YEAR.exec(line);
  if (m) {
    const [, mo, d, h, mi, s] = m;
    return Date.UTC(
      2000,
      +(mo as string) - 1,
      +(d as string),
      +(h as string),
      +(mi as string),
      +(s as string),
    );
  }
  return null;
}
