import { type Clock, systemClock } from "./clock.ts";

/** Settings of a {@link Backoff}. */
export interface BackoffSettings {
  /** Ceiling of the first wait after a failure (default 1 s). */
  initialMs: number;
  /** Ceiling of every wait (default 60 s). */
  maxMs: number;
  /**
   * A connection that stayed up this long counts as stable: losing it starts the waits afresh.
   * One that dropped sooner keeps them growing, so a link that opens and closes at once is not
   * retried in a tight loop (default 60 s).
   */
  stableMs: number;
}

/** The waits trainops uses for chat platforms and VMs unless told otherwise. */
export const DEFAULT_BACKOFF: BackoffSettings = {
  initialMs: 1000,
  maxMs: 60_000,
  stableMs: 60_000,
};

/** Options of {@link Backoff}: settings merged over {@link DEFAULT_BACKOFF}, time and chance. */
export interface BackoffOptions extends Partial<BackoffSettings> {
  clock?: Clock;
  /** Uniform in [0, 1); tests pin it to check the bounds. */
  random?: () => number;
}

/**
 * When to try a connection again: exponential back-off with jitter and a cap, reset only after
 * a stable connection.
 *
 * The n-th wait in a row (n from 0) has the ceiling `min(maxMs, initialMs · 2ⁿ)` and is drawn
 * uniformly from its upper half, `[ceiling/2, ceiling]` ("equal jitter"): the jitter spreads
 * many clients apart after an outage, and the lower half bound guarantees that waits still
 * double, so a dead server is never retried faster than the schedule says.
 */
export class Backoff {
  readonly settings: BackoffSettings;
  private readonly clock: Clock;
  private readonly random: () => number;
  private failures = 0;
  private connectedAt: number | undefined;

  constructor(options: BackoffOptions = {}) {
    this.settings = {
      initialMs: options.initialMs ?? DEFAULT_BACKOFF.initialMs,
      maxMs: options.maxMs ?? DEFAULT_BACKOFF.maxMs,
      stableMs: options.stableMs ?? DEFAULT_BACKOFF.stableMs,
    };
    if (!(this.settings.initialMs > 0) || this.settings.maxMs < this.settings.initialMs) {
      throw new RangeError(
        `back-off needs 0 < initialMs <= maxMs (got ${this.settings.initialMs} and ${this.settings.maxMs})`,
      );
    }
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
  }

  /** Waits handed out since the last stable connection (0 when none). */
  get attempts(): number {
    return this.failures;
  }

  /** The ceiling of the next wait, without drawing it. */
  get nextCeilingMs(): number {
    return Math.min(this.settings.maxMs, this.settings.initialMs * 2 ** this.failures);
  }

  /** A connection is up: remember when, to judge whether it was stable once it drops. */
  connected(): void {
    this.connectedAt = this.clock.now();
  }

  /**
   * An attempt failed or a connection dropped: how long to wait before the next attempt. After
   * a stable connection the waits start again from `initialMs`.
   */
  nextDelayMs(): number {
    if (
      this.connectedAt !== undefined &&
      this.clock.now() - this.connectedAt >= this.settings.stableMs
    ) {
      this.failures = 0;
    }
    this.connectedAt = undefined;
    const ceiling = this.nextCeilingMs;
    this.failures += 1;
    return Math.round(ceiling / 2 + this.random() * (ceiling / 2));
  }

  /** Forgets every failure (a person fixed something, or the connection was closed on purpose). */
  reset(): void {
    this.failures = 0;
    this.connectedAt = undefined;
  }
}

/**
 * Waits `ms`, or less when `signal` aborts; resolves `false` then (no rejection, so a stop while
 * waiting needs no error handling). The timer does not hold the process open.
 */
export function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    timer.unref?.();
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
