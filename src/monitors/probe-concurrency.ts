/** Settings of {@link ProbeConcurrency}. */
export interface ProbeConcurrencyOptions {
  /** The most probes in flight, ever (the scheduler's `maxConcurrent`). */
  max: number;
  /** The fewest the limit goes down to (default 4, or `max` when that is lower). */
  min?: number;
}

/** How many finished probes one decision looks at. */
const WINDOW = 8;

/**
 * How many host probes may be in flight at once, adapted to how long they take (additive
 * increase, multiplicative decrease). A probe's deadline is what it may take; when the median
 * of the last {@link WINDOW} probes took more than three quarters of theirs, the VMs (or the
 * daemon, or the network between) are saturated: more probes at once would only make each slower,
 * until they run into their deadlines and are killed, and a killed probe is a missed poll, CPU
 * spent for nothing and a full check of every log the next time (load begetting load). So the
 * limit drops by a third (once per window of finished probes), and the others wait for a free
 * slot, which does not count against their deadline. While the median stays under half, each
 * finished probe raises the limit by one, back to `max`. Between the two it holds, and it acts
 * only that late: on a machine busy with other work a probe takes seconds for want of CPU
 * whatever the number in flight, and fewer at once then only poll fewer hosts a round (measured
 * at 1,000 runs: a limit cut at a quarter or a half of the deadline skipped 2 to 8 times as many
 * polls at start as no limit).
 *
 * A median, not each probe: one hung VM that runs every probe of its own into the deadline
 * must not throttle a fleet of healthy ones.
 */
export class ProbeConcurrency {
  private current: number;
  private readonly min: number;
  /** The last finished probes, as a share of their deadline. */
  private readonly recent: number[] = [];

  constructor(private readonly options: ProbeConcurrencyOptions) {
    this.current = Math.max(1, options.max);
    this.min = Math.max(1, Math.min(options.min ?? 4, this.current));
  }

  /** Probes allowed in flight now. */
  get limit(): number {
    return this.current;
  }

  /** Records a finished probe: it took `durationMs` of its `deadlineMs`. */
  finished(durationMs: number, deadlineMs: number): void {
    this.recent.push(durationMs / Math.max(1, deadlineMs));
    if (this.recent.length > WINDOW) this.recent.shift();
    if (this.recent.length < WINDOW) return;
    const median = [...this.recent].sort((a, b) => a - b)[WINDOW / 2] as number;
    if (median > 3 / 4) {
      this.current = Math.max(this.min, Math.floor((this.current * 2) / 3));
      // The probes that finish next were mostly in flight under the old limit: judge the new
      // one by a fresh window.
      this.recent.length = 0;
    } else if (median < 1 / 2) {
      this.current = Math.min(this.options.max, this.current + 1);
    }
  }
}
