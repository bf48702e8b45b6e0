import type { Counter, CounterKind, LineReading } from "./line-reading.ts";

/** What the reader learnt about one counter over the log, for `trainops parse --explain`. */
export interface CounterReport {
  label: string;
  kind: CounterKind | "epoch-only";
  /** The first line it was seen on (clipped). */
  example: string;
  lineNumber: number;
  lines: number;
  /** Times the value went up, and times it went down (a down on a new epoch is a reset). */
  increases: number;
  decreases: number;
  /** Times it went down while the epoch went up: an in-epoch counter. */
  resetsOnEpoch: number;
  /** Median increase between two lines where it went up. */
  medianIncrease: number | null;
  lastValue: number;
  lastTotal: number | null;
  eval: boolean;
  chosen: boolean;
  /** Why it is the step, or why not. */
  why: string;
}

/** The running record of one counter (by key) over the log. */
export interface CounterStats {
  key: string;
  kind: CounterKind | "epoch-only";
  label: string;
  example: string;
  lineNumber: number;
  lines: number;
  increases: number;
  decreases: number;
  resetsOnEpoch: number;
  /** Went up across a change of epoch: a global counter. */
  carriedOverEpoch: number;
  deltas: number[];
  lastValue: number;
  lastTotal: number | null;
  /** The last total it printed, kept through lines that print it without one (`Iter: 1`). */
  printedTotal: number | null;
  lastEpoch: number | null;
  eval: boolean;
  /** Lines on which it was printed outside any evaluation (a train line of a shared counter). */
  trainLines: number;
  chore: boolean;
  /** Seen nested after an epoch on its line. */
  nested: number;
  /** Seen on a line with an in-epoch counter while its value was beyond that counter's total. */
  beyondBatch: number;
  /** Lines on which it came with a training loss (a train bar's `loss=` postfix). */
  withLoss: number;
}

/** Kinds that count batches within an epoch by nature. */
export const IN_EPOCH_KINDS: ReadonlySet<CounterKind> = new Set(["batch", "fraction", "progbar"]);

const MAX_DELTAS = 32;

/**
 * How every counter of the log behaved: how often it went up or down, whether it resets when
 * the epoch moves on, comes with the training loss, or is printed inside an evaluation. The
 * step choice reads it; `parse --explain` reports it. Memory is bounded by the counters a log
 * has, and the last 32 increases of each.
 */
export class CounterLedger {
  private readonly stats = new Map<string, CounterStats>();

  get(key: string): CounterStats | undefined {
    return this.stats.get(key);
  }

  all(): CounterStats[] {
    return [...this.stats.values()];
  }

  /** The record of `key`, started at line `lineNumber` when the counter is new. */
  statsFor(
    key: string,
    kind: CounterStats["kind"],
    label: string,
    example: string,
    chore: boolean,
    lineNumber: number,
  ): CounterStats {
    let s = this.stats.get(key);
    if (!s) {
      s = {
        key,
        kind,
        label,
        example: example.length > 140 ? `${example.slice(0, 140)}…` : example,
        lineNumber,
        lines: 0,
        increases: 0,
        decreases: 0,
        resetsOnEpoch: 0,
        carriedOverEpoch: 0,
        deltas: [],
        lastValue: 0,
        lastTotal: null,
        printedTotal: null,
        lastEpoch: null,
        eval: false,
        trainLines: 0,
        chore,
        nested: 0,
        beyondBatch: 0,
        withLoss: 0,
      };
      this.stats.set(key, s);
    }
    return s;
  }

  /** One more value of a counter, in epoch `epoch` (the previous line's was `previousEpoch`). */
  track(
    s: CounterStats,
    value: number,
    total: number | null,
    epoch: number | null,
    previousEpoch: number | null,
  ): void {
    if (s.lines > 0) {
      const epochMoved = epoch !== null && s.lastEpoch !== null && epoch > s.lastEpoch;
      if (value > s.lastValue) {
        s.increases += 1;
        s.deltas.push(value - s.lastValue);
        if (s.deltas.length > MAX_DELTAS) s.deltas.shift();
        if (epochMoved || (epoch !== null && previousEpoch !== null && epoch > previousEpoch))
          s.carriedOverEpoch += epochMoved ? 1 : 0;
      } else if (value < s.lastValue) {
        s.decreases += 1;
        if (epochMoved) s.resetsOnEpoch += 1;
      }
    }
    s.lines += 1;
    s.lastValue = value;
    s.lastTotal = total;
    if (total !== null) s.printedTotal = total;
    s.lastEpoch = epoch;
  }

  /**
   * Records counter `c` of a line: its value in its epoch (its own, else the line's, else
   * `runningEpoch`, the last one the log printed), and what the line says about it.
   */
  observe(
    c: Counter,
    line: string,
    lineNumber: number,
    epochs: { line: number | null; previous: number | null; running: number | null },
    reading: LineReading,
  ): void {
    const s = this.statsFor(c.key, c.kind, c.label, line.trim(), c.chore, lineNumber);
    if (c.eval) s.eval = true;
    else s.trainLines += 1;
    if (reading.loss !== null) s.withLoss += 1;
    const epoch = c.epoch ?? epochs.line ?? epochs.running;
    this.track(s, c.value, c.total, epoch, epochs.previous);
    if (reading.epoch !== null && reading.epochAt >= 0 && reading.epochAt < c.at) s.nested += 1;
    const batch = reading.counters.find(
      (o) => o !== c && IN_EPOCH_KINDS.has(o.kind) && o.total !== null,
    );
    if (batch && batch.total !== null && c.value > batch.total) s.beyondBatch += 1;
  }
}

/** The median of `values`, null for none. */
export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}
