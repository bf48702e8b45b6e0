import type { CounterLedger, CounterStats } from "./counter-ledger.ts";
import type { Counter, CounterKind, LineReading } from "./line-reading.ts";

const RANK: Record<CounterKind, number> = {
  global: 7,
  step: 6,
  iter: 6,
  bar: 4,
  progbar: 4,
  column: 3,
  leading: 3,
  batch: 2,
  fraction: 2,
  epoch: 0,
};

/** A bar drawn before its first step: `0/18 [00:00<?, ?it/s]`. */
function isRedraw(c: Counter): boolean {
  return c.kind === "bar" && c.value === 0 && c.stepTime === null;
}

/**
 * Which counter of the log is the training step: an explicit global step over a step or
 * iteration over a bar over an in-epoch batch counter, never an evaluation bar or a chore,
 * keeping the choice while that counter keeps printing. `chosen` is the key of the counter in
 * use, or `epoch-only` when the log counts nothing finer than its epochs.
 */
export class StepChoice {
  chosen: string | null = null;

  constructor(private readonly ledger: CounterLedger) {}

  /** The chosen counter's record, if one is chosen. */
  current(): CounterStats | undefined {
    return this.chosen ? this.ledger.get(this.chosen) : undefined;
  }

  /**
   * The counter of this line that is the training step, keeping the log's choice stable.
   * `newEpoch`: the line opens another epoch than the last point's.
   */
  pick(reading: LineReading, newEpoch = false): Counter | null {
    const candidates = reading.counters.filter((c) => this.eligible(c));
    if (candidates.length === 0) return null;
    const current = this.chosen;
    // A counter printed more than once on a line is a bar's updates piled up (no line break
    // between redraws): the last is the newest.
    let same: Counter | undefined;
    for (const c of candidates) if (c.key === current) same = c;
    let best = candidates[0] as Counter;
    for (const c of candidates) {
      const better =
        c.key === best.key ||
        RANK[c.kind] > RANK[best.kind] ||
        (RANK[c.kind] === RANK[best.kind] &&
          (this.ledger.get(c.key)?.increases ?? 0) > (this.ledger.get(best.key)?.increases ?? 0));
      if (better) best = c;
    }
    if (same) {
      const taken = RANK[best.kind] > RANK[same.kind] && this.established(best) ? best : same;
      this.chosen = taken.key;
      // The step's own bar redrawn at 0 as the next epoch opens (`Training Epoch 14:   0% 0/101
      // [00:00<?, ?it/s]`) says the epoch moved on; any other redraw waits for the bar to move.
      return isRedraw(taken) && !(newEpoch && taken === same) ? null : taken;
    }
    if (current !== null && current !== "epoch-only") {
      const held = this.ledger.get(current);
      if (held && !this.mayLeave(held, best)) return null;
    }
    // A bar's first draw (0 done, no rate yet) does not choose the step: wait for it to move. Until
    // something is chosen it is still the best word on progress (a run stuck before its first
    // step shows `0/313`).
    if (isRedraw(best)) return current === null ? best : null;
    this.chosen = best.key;
    return best;
  }

  /** Why a counter is the step, or why not, for `parse --explain`. */
  why(s: CounterStats): string {
    if (s.key === this.chosen) {
      if (s.kind === "epoch-only") return "no step counter in the log: counting epochs";
      const nested =
        s.resetsOnEpoch > 0 ? "resets each epoch" : s.nested > 0 ? "printed inside its epoch" : "";
      return `the step: ${s.kind} counter${s.increases > 0 ? ", increases" : ""}${nested ? `, ${nested}` : ""}`;
    }
    if (s.eval && s.trainLines === 0) return "evaluation/validation/test counter";
    if (s.chore) return "not training (dataset, download or loading bar)";
    if (s.kind === "epoch-only") return "epochs only; a finer counter was found";
    const chosen = this.current();
    if (
      chosen &&
      chosen.kind !== "epoch-only" &&
      RANK[chosen.kind as CounterKind] > RANK[s.kind as CounterKind]
    )
      return `ranks below the chosen ${chosen.kind} counter`;
    if (chosen && chosen.withLoss > 0 && s.withLoss === 0)
      return "prints no training loss: the bar with the loss is the training one";
    if (s.lastTotal !== null && s.lastValue >= s.lastTotal)
      return "finished bar, another took over";
    return "another counter of the same kind was kept";
  }

  private eligible(c: Counter): boolean {
    const s = this.ledger.get(c.key);
    // A counter seen only in evaluations stays out; one that training lines print too (`Epoch 3
    // Batch 50/225 - Loss` and `… - Test Loss`) is out on its evaluation lines alone.
    const evalOnly = (s?.eval ?? false) && (s?.trainLines ?? 0) === 0;
    return c.kind !== "epoch" && !c.eval && !evalOnly && !c.chore;
  }

  /** Whether a counter of another key may take over from the one the log has used so far. */
  private mayLeave(held: CounterStats, next: Counter): boolean {
    if (held.kind === "epoch-only") return true;
    // A better-ranked counter takes over once it is a series, not a one-off mention
    // ("resuming from step=190" in a log of bars).
    if (RANK[next.kind] > RANK[held.kind as CounterKind])
      return this.established(next) || held.lines <= 1;
    // The training bar prints the loss; an evaluation bar after it does not.
    const nextLoss = this.ledger.get(next.key)?.withLoss ?? 0;
    if (held.withLoss > 0 && nextLoss === 0) return false;
    // A finished bar (a preprocessing pass, a dataset map, an earlier stage) hands over.
    const finished = held.lastTotal !== null && held.lastValue >= held.lastTotal;
    if (finished && (held.kind === "bar" || held.kind === "progbar")) return true;
    if (RANK[next.kind] < RANK[held.kind as CounterKind]) return false;
    // Printed once and never again (`Starting training from iteration 0`): no series to keep.
    if (held.lines === 1) return true;
    if (finished) return true;
    // A running counter keeps its place against a smaller one (an evaluation bar in between).
    return next.total !== null && held.lastTotal !== null && next.total > held.lastTotal;
  }

  /** Seen on more than one line: a counter the log keeps printing. */
  private established(c: Counter): boolean {
    return (this.ledger.get(c.key)?.lines ?? 0) >= 2;
  }
}
