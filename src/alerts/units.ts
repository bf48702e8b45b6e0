/** Number formatting for alert text: fixed units so messages compare at a glance. */

const GIB = 1024 ** 3;

/** Bytes as GiB with one decimal: `77.4 GiB`. */
export function formatGiB(bytes: number): string {
  return `${(bytes / GIB).toFixed(1)} GiB`;
}

/** MiB (nvidia-smi's unit) as GiB with one decimal. */
export function mibToGiB(mib: number): number {
  return mib / 1024;
}

/** A share as a whole percentage: `96%`. */
export function formatPercent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/** Seconds with a unit, keeping one decimal under 10 s: `2.4 s`, `18 s`. */
export function formatSeconds(seconds: number): string {
  return seconds < 10 ? `${seconds.toFixed(1)} s` : `${Math.round(seconds)} s`;
}

/** Clock time in UTC, `14:02 UTC`, for "since" phrases. */
export function formatClock(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 16)} UTC`;
}

/** The median of a list, or null when empty. */
export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Least-squares slope of `value` per millisecond, or null with fewer than 2 distinct times. */
export function slopePerMs(points: Array<{ at: number; value: number }>): number | null {
  if (points.length < 2) return null;
  const n = points.length;
  const meanT = points.reduce((s, p) => s + p.at, 0) / n;
  const meanV = points.reduce((s, p) => s + p.value, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.at - meanT) * (p.value - meanV);
    den += (p.at - meanT) ** 2;
  }
  return den === 0 ? null : num / den;
}
