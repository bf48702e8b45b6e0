/** Keys whose values are whole seconds in JSON output (ETAs: sub-second digits are noise). */
const WHOLE_SECONDS = /(^|[a-z])(eta|Eta)Seconds$|^etaSeconds$/;

/**
 * A number as JSON output shows it: integers as they are; ETAs to the second; other floats to
 * four significant digits (whole numbers from 1000 up), so `199.99999999` prints as 200 and
 * `0.41234567` as 0.4123.
 */
export function roundForJson(key: string, value: number): number {
  if (!Number.isFinite(value) || Number.isInteger(value)) return value;
  if (WHOLE_SECONDS.test(key)) return Math.round(value);
  if (Math.abs(value) >= 1000) return Math.round(value);
  return Number(value.toPrecision(4));
}

/** JSON.stringify with {@link roundForJson} applied to every number, indented by two. */
export function toJsonText(value: unknown): string {
  return `${JSON.stringify(value, (key, v) => (typeof v === "number" ? roundForJson(key, v) : v), 2)}\n`;
}
