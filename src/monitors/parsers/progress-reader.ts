import type { StepPoint } from "../../model/monitoring.ts";
import { readLine } from "./line-reader.ts";
import type { Counter, CounterKind, LineReading } from "./line-reading.ts";
import type { StepParser } from "./step-parser.ts";
import { stripAnsi } from "./strip-ansi.ts";

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

interface Stats {
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
  lastEpoch: number | null;
  eval: boolean;
  chore: boolean;
  /** Seen nested after an epoch on its line. */
  nested: number;
  /** Seen on a line with an in-epoch counter while its value was beyond that counter's total. */
  beyondBatch: number;
  /** Lines on which it came with a training loss (a train bar's `loss=` postfix). */
  withLoss: number;
}

const RANK: Record<CounterKind, number> = {
  global: 7,
  step: 6,
  iter: 6,
  bar: 4,
  progbar: 4,
  column: 3,
  batch: 2,
  fraction: 2,
  epoch: 0,
};

/** Kinds that count batches within an epoch by nature. */
const IN_EPOCH_KINDS: ReadonlySet<CounterKind> = new Set(["batch", "fraction", "progbar"]);

const MAX_DELTAS = 32;
const MAX_QUIET_SHAPES = 1024;
const DIGITS = /\d+/g;

/** Nothing on the line for the reader: no counter, epoch, loss, time, dict or header. */
function isQuiet(r: LineReading): boolean {
  return (
    r.counters.length === 0 &&
    r.epoch === null &&
    r.loss === null &&
    r.stepTime === null &&
    r.epochTime === null &&
    !r.metricsDict &&
    r.header === null
  );
}

/**
 * The general progress reader behind `steps.format: auto`.
 *
 * Every line is tokenised into labelled counters (`step`, `iter`, `batch`, `epoch`… with `N`,
 * `N/M`, `[N/M]`, `[e][i/n]`), progress bars (tqdm of any unit, Keras and rich) and, under a
 * table header, leading `N/M` columns. Over the log it learns which counter is the training
 * step: an explicit global step over a step or iteration over a bar over an in-epoch batch
 * counter, never an evaluation bar or a chore (dataset mapping, downloads), keeping its choice
 * while that counter keeps printing. An in-epoch counter (one that resets when the epoch moves
 * on, or is printed nested in its epoch) becomes a global step `(epoch - first) × per-epoch +
 * i` with total `epochs × per-epoch` when the log names the number of epochs; otherwise it is
 * reported as it is with its epoch, as the progress estimator expects. A log with no counter
 * but its epochs (nnU-Net, YOLO tables) counts epochs. Costs a few regex scans per line with
 * digits, and constant memory.
 */
export class ProgressReader implements StepParser {
  private readonly stats = new Map<string, Stats>();
  private chosen: string | null = null;
  private last: StepPoint | null = null;
  private header: string | null = null;
  private epoch: number | null = null;
  private epochTotal: number | null = null;
  private minEpoch: number | null = null;
  private lineNumber = 0;
  private readonly quietShapes = new Set<string>();
  /** Loss seen on a line without a counter (a metrics dict), for the next point. */
  private pendingLoss: number | null = null;

  get format(): string {
    const chosen = this.chosen ? this.stats.get(this.chosen) : undefined;
    return chosen ? `auto (${chosen.label})` : "auto";
  }

  parseLine(raw: string): StepPoint | null {
    this.lineNumber += 1;
    // mpirun and rsyslog write control characters as octal escapes (`#015` for a carriage
    // return, `#033[A` for a cursor move); they separate words like the characters would.
    const line = stripAnsi(raw).replace(/#0(?:15|33)(?:\[[0-9;]*[A-Za-z])?/g, " ");
    // Chatter repeats its shape with other numbers ("loaded shard 12 (84 samples)"): a shape
    // that held nothing once holds nothing again. Not for lines with `[` and `/`, where the
    // numbers themselves decide (`[0/0]` is no position, `[3/5]` is).
    const shape = line.replace(DIGITS, "#");
    if (this.quietShapes.has(shape)) return null;
    const reading = readLine(line, this.header);
    if (isQuiet(reading) && !(line.includes("[") && line.includes("/"))) {
      if (this.quietShapes.size >= MAX_QUIET_SHAPES) this.quietShapes.clear();
      this.quietShapes.add(shape);
    }
    if (reading.header !== null) {
      this.header = reading.header;
      // Under a header, rows that said nothing before may now be its columns.
      this.quietShapes.clear();
      return null;
    }
    const previousEpoch = this.epoch;
    this.noteEpoch(reading, line);
    const lineEpoch = reading.epoch !== null && !reading.epochEval ? reading.epoch : null;
    for (const counter of reading.counters)
      this.observe(counter, line, lineEpoch, previousEpoch, reading);

    const step = this.pick(reading);
    if (step) return this.point(step, reading);
    return this.withoutCounter(line, reading);
  }

  /** The counters seen so far, best candidate first, with the reason for the choice. */
  explain(): CounterReport[] {
    const rows = [...this.stats.values()].map((s) => ({
      label: s.label,
      kind: s.kind,
      example: s.example,
      lineNumber: s.lineNumber,
      lines: s.lines,
      increases: s.increases,
      decreases: s.decreases,
      resetsOnEpoch: s.resetsOnEpoch,
      medianIncrease: median(s.deltas),
      lastValue: s.lastValue,
      lastTotal: s.lastTotal,
      eval: s.eval,
      chosen: s.key === this.chosen,
      why: this.why(s),
    }));
    return rows.sort((a, b) => Number(b.chosen) - Number(a.chosen) || b.lines - a.lines);
  }

  /** Epochs the log counts from (0 or 1), when it printed any. */
  get firstEpoch(): number | null {
    return this.minEpoch === null ? null : this.minEpoch === 0 ? 0 : 1;
  }

  private noteEpoch(reading: LineReading, line: string): void {
    const epoch = reading.epoch;
    if (epoch === null || reading.epochEval) return;
    this.epoch = epoch;
    if (reading.epochTotal !== null) this.epochTotal = reading.epochTotal;
    if (Number.isInteger(epoch)) this.minEpoch = Math.min(this.minEpoch ?? epoch, epoch);
    if (reading.counters.length === 0 && Number.isInteger(epoch)) {
      const s = this.statsFor(
        "epoch-only",
        "epoch-only",
        "Epoch N (no step counter)",
        line.trim(),
        false,
      );
      if (s.lines === 0 || s.lastValue !== epoch)
        this.track(s, epoch, reading.epochTotal, epoch, null);
    }
  }

  private statsFor(
    key: string,
    kind: Stats["kind"],
    label: string,
    example: string,
    chore: boolean,
  ): Stats {
    let s = this.stats.get(key);
    if (!s) {
      s = {
        key,
        kind,
        label,
        example: example.length > 140 ? `${example.slice(0, 140)}…` : example,
        lineNumber: this.lineNumber,
        lines: 0,
        increases: 0,
        decreases: 0,
        resetsOnEpoch: 0,
        carriedOverEpoch: 0,
        deltas: [],
        lastValue: 0,
        lastTotal: null,
        lastEpoch: null,
        eval: false,
        chore,
        nested: 0,
        beyondBatch: 0,
        withLoss: 0,
      };
      this.stats.set(key, s);
    }
    return s;
  }

  private track(
    s: Stats,
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
    s.lastEpoch = epoch;
  }

  private observe(
    c: Counter,
    line: string,
    lineEpoch: number | null,
    previousEpoch: number | null,
    reading: LineReading,
  ): void {
    const s = this.statsFor(c.key, c.kind, c.label, line.trim(), c.chore);
    if (c.eval) s.eval = true;
    if (reading.loss !== null) s.withLoss += 1;
    const epoch = c.epoch ?? lineEpoch ?? this.epoch;
    this.track(s, c.value, c.total, epoch, previousEpoch);
    if (reading.epoch !== null && reading.epochAt >= 0 && reading.epochAt < c.at) s.nested += 1;
    const batch = reading.counters.find(
      (o) => o !== c && IN_EPOCH_KINDS.has(o.kind) && o.total !== null,
    );
    if (batch && batch.total !== null && c.value > batch.total) s.beyondBatch += 1;
  }

  private eligible(c: Counter): boolean {
    const s = this.stats.get(c.key);
    return c.kind !== "epoch" && !c.eval && !(s?.eval ?? false) && !c.chore;
  }

  private rank(c: Counter): number {
    return RANK[c.kind];
  }

  /** The counter of this line that is the training step, keeping the log's choice stable. */
  private pick(reading: LineReading): Counter | null {
    const candidates = reading.counters.filter((c) => this.eligible(c));
    if (candidates.length === 0) return null;
    const current = this.chosen;
    const same = current ? candidates.find((c) => c.key === current) : undefined;
    let best = candidates[0] as Counter;
    for (const c of candidates) {
      const better =
        this.rank(c) > this.rank(best) ||
        (this.rank(c) === this.rank(best) &&
          (this.stats.get(c.key)?.increases ?? 0) > (this.stats.get(best.key)?.increases ?? 0));
      if (better) best = c;
    }
    if (same) {
      const taken = this.rank(best) > this.rank(same) && this.established(best) ? best : same;
      this.chosen = taken.key;
      return isRedraw(taken) ? null : taken;
    }
    if (current !== null && current !== "epoch-only") {
      const held = this.stats.get(current);
      if (held && !this.mayLeave(held, best)) return null;
    }
    // A bar's first draw (0 done, no rate yet) tells nothing; wait for it to move.
    if (isRedraw(best)) return null;
    this.chosen = best.key;
    return best;
  }

  /** Whether a counter of another key may take over from the one the log has used so far. */
  private mayLeave(held: Stats, next: Counter): boolean {
    if (held.kind === "epoch-only") return true;
    // A better-ranked counter takes over once it is a series, not a one-off mention
    // ("resuming from step=190" in a log of bars).
    if (RANK[next.kind] > RANK[held.kind as CounterKind])
      return this.established(next) || held.lines <= 1;
    // The training bar prints the loss; an evaluation bar after it does not.
    const nextLoss = this.stats.get(next.key)?.withLoss ?? 0;
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
    return (this.stats.get(c.key)?.lines ?? 0) >= 2;
  }

  private inEpoch(c: Counter, s: Stats | undefined, reading: LineReading): boolean {
    if (c.epoch !== null) return true;
    if (!s) return false;
    if (s.carriedOverEpoch > 0 || s.beyondBatch > 0) return false;
    if (s.resetsOnEpoch > 0) return true;
    if (IN_EPOCH_KINDS.has(c.kind)) return true;
    // Printed after its epoch on the same line (`Epoch [1/3] Step [415/2500]`, Lightning's
    // `Epoch 0: ... 1664/1702`): nested in it. Printed before it, it is the run's own count.
    return (
      reading.epoch !== null && reading.epochAt >= 0 && reading.epochAt < c.at && c.total !== null
    );
  }

  private point(c: Counter, reading: LineReading): StepPoint {
    const s = this.stats.get(c.key);
    const epochText = c.epoch ?? (reading.epochEval ? null : reading.epoch) ?? this.epoch;
    const loss = reading.loss ?? this.pendingLoss ?? this.last?.loss ?? null;
    this.pendingLoss = null;
    let step = c.value;
    let total = c.total;
    let perEpoch: number | null = null;
    const epochsKnown = reading.epochTotal ?? (c.epoch === null ? this.epochTotal : null);
    if (
      epochText !== null &&
      Number.isInteger(epochText) &&
      c.total !== null &&
      epochsKnown !== null &&
      this.inEpoch(c, s, reading)
    ) {
      const first = this.firstEpoch ?? 1;
      step = Math.max(0, epochText - first) * c.total + c.value;
      // Counted from 0, the printed number is the last index (`Epoch 0/59`, YOLOv5's `0/299`).
      total = (epochsKnown + (first === 0 ? 1 : 0)) * c.total;
      perEpoch = c.total;
    }
    const found: StepPoint = {
      step,
      total,
      epoch: epochText,
      loss,
      stepTime: reading.stepTime,
      ...(perEpoch !== null ? { perEpoch } : {}),
    };
    this.last = found;
    return found;
  }

  /** A line without a step counter: a metrics dict or, in an epoch-only log, the epoch's lines. */
  private withoutCounter(line: string, reading: LineReading): StepPoint | null {
    const epochOnly = this.chosen === null || this.chosen === "epoch-only";
    if (
      epochOnly &&
      reading.counters.length === 0 &&
      reading.epoch !== null &&
      !reading.epochEval &&
      Number.isInteger(reading.epoch) &&
      !/\{\s*['"]/.test(line)
    ) {
      this.chosen = "epoch-only";
      const epochs = reading.epochTotal ?? this.epochTotal;
      const found: StepPoint = {
        step: reading.epoch,
        total: epochs,
        epoch: reading.epoch,
        loss: reading.loss,
        stepTime: reading.epochTime ?? reading.stepTime,
      };
      this.last = found;
      return found;
    }
    const last = this.last;
    if (reading.metricsDict) {
      // Hugging Face's `{'loss': …, 'epoch': 0.01}` belongs to the bar's last step.
      if (reading.epoch !== null && !Number.isInteger(reading.epoch)) this.epoch = reading.epoch;
      if (!last) return null;
      this.last = {
        ...last,
        loss: reading.loss ?? last.loss,
        epoch: reading.epoch ?? last.epoch,
      };
      return this.last;
    }
    if (epochOnly && last && this.chosen === "epoch-only" && reading.counters.length === 0) {
      if (reading.loss === null && reading.epochTime === null) return null;
      this.last = {
        ...last,
        loss: reading.loss ?? last.loss,
        stepTime: reading.epochTime ?? last.stepTime,
      };
      return this.last;
    }
    return null;
  }

  private why(s: Stats): string {
    if (s.key === this.chosen) {
      if (s.kind === "epoch-only") return "no step counter in the log: counting epochs";
      const nested =
        s.resetsOnEpoch > 0 ? "resets each epoch" : s.nested > 0 ? "printed inside its epoch" : "";
      return `the step: ${s.kind} counter${s.increases > 0 ? ", increases" : ""}${nested ? `, ${nested}` : ""}`;
    }
    if (s.eval) return "evaluation/validation/test counter";
    if (s.chore) return "not training (dataset, download or loading bar)";
    if (s.kind === "epoch-only") return "epochs only; a finer counter was found";
    const chosen = this.chosen ? this.stats.get(this.chosen) : undefined;
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
}

/** A bar drawn before its first step: `0/18 [00:00<?, ?it/s]`. */
function isRedraw(c: Counter): boolean {
  return c.kind === "bar" && c.value === 0 && c.stepTime === null;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}
