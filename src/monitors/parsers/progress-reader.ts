import type { StepPoint } from "../../model/monitoring.ts";
import { readBannerTotal } from "./banner-total.ts";
import { CounterLedger, type CounterReport, median } from "./counter-ledger.ts";
import { countsInEpoch, globalStep } from "./epoch-steps.ts";
import { readLine } from "./line-reader.ts";
import { type Counter, type LineReading, namesEvaluation } from "./line-reading.ts";
import { StepChoice } from "./step-choice.ts";
import type { StepParser } from "./step-parser.ts";
import { stripAnsi } from "./strip-ansi.ts";

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

/** A training counter of the line, other than `except`, that stands at `value` (with a total). */
function agreeing(
  reading: LineReading,
  value: number,
  except?: Counter,
  withTotal = false,
): Counter | undefined {
  return reading.counters.find(
    (o) =>
      o !== except &&
      o.value === value &&
      o.kind !== "epoch" &&
      !o.eval &&
      !o.chore &&
      (!withTotal || o.total !== null),
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
 *
 * Its parts: `readLine` tokenises a line, the {@link CounterLedger} records how each counter
 * behaves, {@link StepChoice} picks the step, and `epoch-steps.ts` turns an in-epoch position
 * into the run's step; this class keeps the log's epochs and the last point.
 */
export class ProgressReader implements StepParser {
  private readonly ledger = new CounterLedger();
  private readonly choice = new StepChoice(this.ledger);
  private last: StepPoint | null = null;
  private header: string | null = null;
  private epoch: number | null = null;
  private epochTotal: number | null = null;
  /**
   * The last epoch an evaluation line named (`eval epoch: 2, loss: …`): the training's epoch
   * when the log prints no other (Flax's ImageNet example), never over one a training line printed.
   */
  private evalEpoch: number | null = null;
  /** The run's steps as its start-up banner announced them (`Total optimization steps = 564`). */
  private runTotal: number | null = null;
  private minEpoch: number | null = null;
  private lineNumber = 0;
  private readonly quietShapes = new Set<string>();
  /** Loss seen on a line without a counter (a metrics dict), for the next point. */
  private pendingLoss: number | null = null;
  /** A step time a metrics table printed above its step's row (Ray's `time_this_iter_s`). */
  private pendingStepTime: number | null = null;
  /** The last point's own line printed its loss (it was not carried over from an earlier one). */
  private lastOwnLoss = false;
  /** The last point has a step time printed for it (on its line or the one after). */
  private lastOwnStepTime = false;

  get format(): string {
    const chosen = this.choice.current();
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
      // A banner's total holds no counter, but a restarted run may announce another one.
      const announced = readBannerTotal(line);
      if (announced !== null) {
        this.runTotal = announced;
        return null;
      }
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
    for (const counter of reading.counters) {
      this.ledger.observe(
        counter,
        line,
        this.lineNumber,
        { line: lineEpoch, previous: previousEpoch, running: this.epoch },
        reading,
      );
    }
    const newEpoch =
      lineEpoch !== null &&
      this.last !== null &&
      this.last.epoch !== null &&
      lineEpoch !== this.last.epoch;
    const step = this.choice.pick(reading, newEpoch);
    if (step) return this.point(step, reading);
    return this.withoutCounter(line, reading);
  }

  /** The counters seen so far, best candidate first, with the reason for the choice. */
  explain(): CounterReport[] {
    const rows = this.ledger.all().map((s) => ({
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
      chosen: s.key === this.choice.chosen,
      why: this.choice.why(s),
    }));
    return rows.sort((a, b) => Number(b.chosen) - Number(a.chosen) || b.lines - a.lines);
  }

  /** Epochs the log counts from (0 or 1), when it printed any. */
  get firstEpoch(): 0 | 1 | null {
    return this.minEpoch === null ? null : this.minEpoch === 0 ? 0 : 1;
  }

  private noteEpoch(reading: LineReading, line: string): void {
    const epoch = reading.epoch;
    if (epoch !== null && reading.epochEval && Number.isInteger(epoch)) this.evalEpoch = epoch;
    if (epoch === null || reading.epochEval) return;
    this.epoch = epoch;
    if (reading.epochTotal !== null) this.epochTotal = reading.epochTotal;
    if (Number.isInteger(epoch)) this.minEpoch = Math.min(this.minEpoch ?? epoch, epoch);
    if (reading.counters.length === 0 && Number.isInteger(epoch)) {
      const s = this.ledger.statsFor(
        "epoch-only",
        "epoch-only",
        "Epoch N (no step counter)",
        line.trim(),
        false,
        this.lineNumber,
      );
      if (s.lines === 0 || s.lastValue !== epoch)
        this.ledger.track(s, epoch, reading.epochTotal, epoch, null);
    }
  }

  private point(c: Counter, reading: LineReading): StepPoint {
    const epochText =
      c.epoch ?? (reading.epochEval ? null : reading.epoch) ?? this.epoch ?? this.evalEpoch;
    const loss = reading.loss ?? this.pendingLoss ?? this.last?.loss ?? null;
    this.pendingLoss = null;
    const pendingStepTime = this.pendingStepTime;
    this.pendingStepTime = null;
    let step = c.value;
    let total = c.total ?? agreeing(reading, c.value, c, true)?.total ?? null;
    let perEpoch: number | null = null;
    const epochsKnown = reading.epochTotal ?? (c.epoch === null ? this.epochTotal : null);
    if (
      epochText !== null &&
      Number.isInteger(epochText) &&
      c.total !== null &&
      epochsKnown !== null &&
      countsInEpoch(c, this.ledger.get(c.key), reading)
    ) {
      ({ step, total } = globalStep(
        c.value,
        c.total,
        epochText,
        epochsKnown,
        this.firstEpoch ?? 1,
      ));
      perEpoch = c.total;
    }
    // A counter printed with its total once (VBx's `Iter: 1/81`) keeps it on the lines that print
    // the same counter without one (`Train Iter: 1 [36000/81780 (44%)]`), while it fits.
    if (total === null && perEpoch === null) {
      const printed = this.ledger.get(c.key)?.printedTotal ?? null;
      if (printed !== null && step <= printed) total = printed;
    }
    // A run-wide step with no total of its own takes the one the banner announced, while it fits.
    if (
      total === null &&
      this.runTotal !== null &&
      step <= this.runTotal &&
      !countsInEpoch(c, this.ledger.get(c.key), reading)
    )
      total = this.runTotal;
    const found: StepPoint = {
      step,
      total,
      epoch: epochText,
      loss,
      // The same step printed again on a line of its own (Caffe's `Iteration 1560, lr = 0.1`
      // after `Iteration 1560 (6.25 iter/s, …)`) keeps the time its first line gave.
      stepTime:
        reading.stepTime ??
        pendingStepTime ??
        (this.last && this.last.step === step && this.last.epoch === epochText
          ? this.last.stepTime
          : null),
      ...(perEpoch !== null ? { perEpoch } : {}),
    };
    this.last = found;
    this.lastOwnLoss = reading.loss !== null;
    this.lastOwnStepTime = reading.stepTime !== null;
    return found;
  }

  /** A line without a step counter: a metrics dict or, in an epoch-only log, the epoch's lines. */
  private withoutCounter(line: string, reading: LineReading): StepPoint | null {
    const epochOnly = this.choice.chosen === null || this.choice.chosen === "epoch-only";
    if (
      epochOnly &&
      reading.counters.length === 0 &&
      reading.epoch !== null &&
      !reading.epochEval &&
      Number.isInteger(reading.epoch) &&
      !/\{\s*['"]/.test(line)
    ) {
      this.choice.chosen = "epoch-only";
      const epochs = reading.epochTotal ?? this.epochTotal;
      const found: StepPoint = {
        step: reading.epoch,
        // Counted from 0, `Epoch 0/59` prints the last index: 60 epochs (as `globalStep` reads it).
        total: epochs === null ? null : epochs + (this.firstEpoch === 0 ? 1 : 0),
        epoch: reading.epoch,
        loss: reading.loss,
        stepTime: reading.epochTime ?? reading.stepTime,
      };
      this.last = found;
      return found;
    }
    const last = this.last;
    // A table prints its rows in its own order: a step time above the step's row is that step's.
    if (reading.tableRow && reading.stepTime !== null) {
      this.pendingStepTime = reading.stepTime;
      return null;
    }
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
    // Another counter at the chosen one's value reports the same step (Megatron's `iteration
    // 34/ 10000 | lm_loss: …` after DeepSpeed's `global_step=34`): its loss and total are that step's.
    const chosenValue = this.choice.current()?.lastValue;
    const same = last && chosenValue !== undefined ? agreeing(reading, chosenValue) : undefined;
    if (last && same) {
      this.last = {
        ...last,
        loss: reading.loss ?? last.loss,
        total: last.total ?? same.total,
        stepTime: reading.stepTime ?? last.stepTime,
      };
      return this.last;
    }
    // A step time on a line of its own just below a step that printed none (Time-Series-Library's
    // `iters: 1100, epoch: 1 | loss: 0.13` then `speed: 0.0589s/iter; left time: 694s`) is that
    // step's; an evaluation's timing is not.
    if (
      last &&
      !this.lastOwnStepTime &&
      !epochOnly &&
      reading.stepTime !== null &&
      reading.counters.length === 0 &&
      reading.epoch === null &&
      !namesEvaluation(line)
    ) {
      this.last = { ...last, stepTime: reading.stepTime };
      this.lastOwnStepTime = true;
      return this.last;
    }
    // A step printed on a line of its own with its metrics on the lines below (Composer's
    // `[batch=4/100]:` then `Train loss/train/total: 10.6459`): the first loss after it is its own.
    if (
      last &&
      !this.lastOwnLoss &&
      !epochOnly &&
      reading.loss !== null &&
      reading.counters.length === 0 &&
      reading.epoch === null &&
      !namesEvaluation(line)
    ) {
      this.last = { ...last, loss: reading.loss };
      this.lastOwnLoss = true;
      return this.last;
    }
    if (epochOnly && last && this.choice.chosen === "epoch-only" && reading.counters.length === 0) {
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
}
