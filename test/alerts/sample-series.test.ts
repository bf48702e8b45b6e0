import { describe, expect, it } from "vitest";
import {
  keepLarger,
  keepSmaller,
  SampleSeries,
  SERIES_CAPACITY,
} from "../../src/alerts/rules/sample-series.ts";

const MIN = 60_000;
const DAY = 24 * 60 * MIN;

/** A series fed one reading a minute for `minutes`, value `f(i)`. */
function fed(series: SampleSeries, minutes: number, f: (i: number) => number[]): SampleSeries {
  for (let i = 0; i < minutes; i++) series.push(i * MIN, f(i));
  return series;
}

describe("a rule's bounded series", () => {
  it("is exact while its window holds no more than its capacity", () => {
    const s = fed(new SampleSeries(DAY), 100, (i) => [i * 1.5]);
    expect(s.since(0).map((p) => p.values[0])).toEqual(
      Array.from({ length: 100 }, (_, i) => i * 1.5),
    );
    expect(s.since(90 * MIN).map((p) => p.at)).toEqual(
      Array.from({ length: 10 }, (_, i) => (90 + i) * MIN),
    );
    expect(s.newest()).toEqual({ at: 99 * MIN, values: [148.5] });
  });

  it("holds a bounded number of points over a long window, spread over all of it, the newest exact", () => {
    const s = fed(new SampleSeries(DAY), 2 * 24 * 60, (i) => [i]);
    expect(s.size).toBeLessThanOrEqual(SERIES_CAPACITY + 8);
    const points = s.since(0);
    // Only the last day is left, from its start to the newest reading.
    expect(points[0]?.at).toBeGreaterThanOrEqual(DAY - 16 * MIN);
    expect(points[0]?.at).toBeLessThan(DAY + 16 * MIN);
    expect(points.slice(-8).map((p) => p.values[0])).toEqual(
      Array.from({ length: 8 }, (_, i) => 2 * 24 * 60 - 8 + i),
    );
    // Oldest first.
    expect(points.map((p) => p.at)).toEqual([...points.map((p) => p.at)].sort((a, b) => a - b));
  });

  it("keeps the peak, or the lowest, when it thins", () => {
    const peak = fed(new SampleSeries(DAY, 2, keepLarger(0)), 1000, (i) => [i === 333 ? 99 : 1, i]);
    expect(Math.max(...peak.since(0).map((p) => p.values[0] as number))).toBe(99);
    expect(peak.since(0).find((p) => p.values[0] === 99)?.values[1]).toBe(333);
    const low = fed(new SampleSeries(DAY, 1, keepSmaller(0)), 1000, (i) => [i === 517 ? -5 : i]);
    expect(Math.min(...low.since(0).map((p) => p.values[0] as number))).toBe(-5);
  });

  it("stores null as NaN, forgets all on clear, and a copy goes its own way", () => {
    const s = new SampleSeries(DAY, 2);
    s.push(0, [1, Number.NaN]);
    const c = s.copy();
    c.push(MIN, [2, 3]);
    expect(s.since(0)).toEqual([{ at: 0, values: [1, Number.NaN] }]);
    expect(c.since(0)).toHaveLength(2);
    c.clear();
    expect(c.since(0)).toEqual([]);
    expect(c.newest()).toBeNull();
    expect(s.size).toBe(1);
  });
});
