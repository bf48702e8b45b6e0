/**
 * A small deterministic PRNG (mulberry32), so a simulated run with the same seed writes the
 * same noise and tests stay reproducible.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [min, max). */
  between(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** `value` scaled by a factor in [1 - fraction, 1 + fraction). */
  jitter(value: number, fraction: number): number {
    return value * this.between(1 - fraction, 1 + fraction);
  }
}
