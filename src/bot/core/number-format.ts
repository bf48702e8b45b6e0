/** Formatting of numbers with units for chat messages. */

const GIB = 1024 ** 3;

/** Bytes as GiB with one decimal: "77.4 GiB". */
export function gib(bytes: number): string {
  return `${(bytes / GIB).toFixed(1)} GiB`;
}

/** MiB as GiB with one decimal, no unit: "77.4". */
export function mibToGib(mib: number): number {
  return mib / 1024;
}

/** Seconds per step: "9.6 s", "0.85 s". */
export function seconds(value: number): string {
  return `${value >= 10 ? value.toFixed(1) : value.toFixed(value >= 1 ? 1 : 2)} s`;
}

/** Hours or days for long spans: "20.0 h", "26.7 days". */
export function longSpan(secondsValue: number): string {
  const hours = secondsValue / 3600;
  if (hours < 1) return `${Math.round(secondsValue / 60)} min`;
  if (hours < 48) return `${hours.toFixed(1)} h`;
  return `${(hours / 24).toFixed(1)} days`;
}

/** "13.7%". */
export function percent(value: number, max: number): string {
  return max > 0 ? `${((100 * value) / max).toFixed(1)}%` : "0%";
}

/** Thousands separators: "4,000". */
export function count(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}
