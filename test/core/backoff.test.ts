import { describe, expect, test } from "vitest";
import { Backoff, DEFAULT_BACKOFF, pause } from "../../src/core/backoff.ts";
import { ManualClock } from "../../src/core/clock.ts";

const draw = (backoff: Backoff, n: number) =>
  Array.from({ length: n }, () => backoff.nextDelayMs());

describe("Backoff", () => {
  test("waits double from initialMs up to maxMs; the draw stays in the upper half of each ceiling", () => {
    const low = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
    const high = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.999_999 });
    expect(draw(low, 7)).toEqual([50, 100, 200, 400, 500, 500, 500]);
    expect(draw(high, 7)).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  test("jitter spreads the waits over [ceiling/2, ceiling]", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 16_807) % 2_147_483_647;
      return (seed - 1) / 2_147_483_646;
    };
    const delays = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const backoff = new Backoff({ initialMs: 1000, maxMs: 60_000, random });
      const [first, second] = draw(backoff, 2) as [number, number];
      expect(first).toBeGreaterThanOrEqual(500);
      expect(first).toBeLessThanOrEqual(1000);
      expect(second).toBeGreaterThanOrEqual(1000);
      expect(second).toBeLessThanOrEqual(2000);
      delays.add(first);
    }
    // Not lock-step: 200 clients starting together draw many different first waits.
    expect(delays.size).toBeGreaterThan(100);
  });

  test("defaults: 1 s doubling to 60 s, stable after 60 s", () => {
    const backoff = new Backoff({ random: () => 0.999_999 });
    expect(backoff.settings).toEqual(DEFAULT_BACKOFF);
    expect(draw(backoff, 8)).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
  });

  test("a stable connection starts the waits afresh; a short-lived one does not", () => {
    const clock = new ManualClock();
    const backoff = new Backoff({
      initialMs: 100,
      maxMs: 10_000,
      stableMs: 5000,
      clock,
      random: () => 0,
    });
    draw(backoff, 4);
    expect(backoff.attempts).toBe(4);
    // Up for 1 s, then dropped: the link flaps, keep growing.
    backoff.connected();
    clock.advance(1000);
    expect(backoff.nextDelayMs()).toBe(800);
    // Up for 5 s: stable, so the next wait is the first one again.
    backoff.connected();
    clock.advance(5000);
    expect(backoff.nextDelayMs()).toBe(50);
    expect(backoff.attempts).toBe(1);
    backoff.reset();
    expect(backoff.attempts).toBe(0);
    expect(backoff.nextCeilingMs).toBe(100);
  });

  test("refuses settings that would not back off", () => {
    expect(() => new Backoff({ initialMs: 0 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 5000, maxMs: 1000 })).toThrow(/initialMs <= maxMs/);
  });
});

describe("pause", () => {
  test("resolves true after the wait, false at once when aborted", async () => {
    expect(await pause(1)).toBe(true);
    const stop = new AbortController();
    const waiting = pause(60_000, stop.signal);
    stop.abort();
    expect(await waiting).toBe(false);
    expect(await pause(60_000, stop.signal)).toBe(false);
  });
});
