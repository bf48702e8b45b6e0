/** The fake's session start budget, as GET /gateway/bot reports it and IDENTIFY spends it. */
export interface SessionLimitOptions {
  /** Session starts per reset window (Discord: 1000 a day). */
  total: number;
  /** Left at the start (default `total`). */
  remaining?: number;
  /** Length of the reset window; the first one ends this long after the fake starts. */
  resetAfterMs: number;
  /** IDENTIFYs allowed per 5 s. */
  maxConcurrency: number;
}

/** What the budget saw: tests assert the bot stayed inside it. */
export interface SessionLimitStats {
  /** IDENTIFYs accepted, with the time each came (ms since the epoch). */
  identifiedAt: number[];
  /** IDENTIFYs that came with no session start left (Discord would reset the token). */
  overBudget: number;
  /** IDENTIFYs beyond `max_concurrency` within 5 s. */
  overConcurrency: number;
}

/**
 * Discord's `session_start_limit`: `total` starts per window, `remaining` spent by each
 * IDENTIFY and refilled when the window ends, `max_concurrency` IDENTIFYs per 5 s.
 */
export class SessionLimit {
  readonly stats: SessionLimitStats = { identifiedAt: [], overBudget: 0, overConcurrency: 0 };
  private remaining: number;
  private resetAt: number;

  constructor(private readonly options: SessionLimitOptions) {
    this.remaining = options.remaining ?? options.total;
    this.resetAt = Date.now() + options.resetAfterMs;
  }

  /** When the current window ends (ms since the epoch). */
  get resetsAt(): number {
    this.refill();
    return this.resetAt;
  }

  /** The `session_start_limit` object of GET /gateway/bot, now. */
  report(): { total: number; remaining: number; reset_after: number; max_concurrency: number } {
    this.refill();
    return {
      total: this.options.total,
      remaining: this.remaining,
      reset_after: Math.max(0, this.resetAt - Date.now()),
      max_concurrency: this.options.maxConcurrency,
    };
  }

  /** An IDENTIFY came: spends a start; false when none was left. */
  spend(): boolean {
    this.refill();
    const now = Date.now();
    const recent = this.stats.identifiedAt.filter((at) => now - at < 5000).length;
    if (recent >= this.options.maxConcurrency) this.stats.overConcurrency += 1;
    if (this.remaining <= 0) {
      this.stats.overBudget += 1;
      return false;
    }
    this.remaining -= 1;
    this.stats.identifiedAt.push(now);
    return true;
  }

  private refill(): void {
    const now = Date.now();
    if (now < this.resetAt) return;
    this.remaining = this.options.total;
    this.resetAt = now + this.options.resetAfterMs;
  }
}
