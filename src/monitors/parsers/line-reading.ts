/**
 * What kind of counter a token is. The general progress reader ranks them when it picks the
 * training step: an explicit global step beats a step or iteration, which beats a progress bar,
 * which beats an in-epoch batch counter.
 */
export type CounterKind =
  | "global"
  | "step"
  | "iter"
  | "batch"
  | "epoch"
  | "bar"
  | "progbar"
  | "fraction"
  | "column"
  | "leading";

/** One counter found on a line: `iter 240`, `Step [415/2500]`, a tqdm bar, a Keras progbar. */
export interface Counter {
  /** The same counter on every line of one log (label and bar description, digits left out). */
  key: string;
  kind: CounterKind;
  /** How the line spells it, for `parse --explain`: `Step [N/M]`, `tqdm bar 'Epoch N:'`. */
  label: string;
  value: number;
  total: number | null;
  /** Printed inside an evaluation, validation or test loop (`Iter(val)`, `Test: [..]`). */
  eval: boolean;
  /** A bar that is not training at all (dataset mapping, downloads, checkpoint loading). */
  chore: boolean;
  /** An epoch printed as the counter's own outer index (`[e][i/n]`, `Train: 3 [i/n]`). */
  epoch: number | null;
  /** Character offset on the line: counters printed after an epoch are nested in it. */
  at: number;
  /** Seconds per unit from the counter's own rate (a tqdm bar's `2.31it/s`). */
  stepTime: number | null;
}

/** Everything the reader takes from one line. */
export interface LineReading {
  counters: Counter[];
  /** The epoch the line names (integer or a fractional one like Hugging Face's 0.01). */
  epoch: number | null;
  /** The number of epochs the line names (`Epoch 1/10`). */
  epochTotal: number | null;
  /** The epoch's offset on the line, to tell nested counters from ones printed before it. */
  epochAt: number;
  /** The epoch was printed in an evaluation line (`Epoch 11 Val - Loss`). */
  epochEval: boolean;
  loss: number | null;
  /** Seconds per step the line prints (a rate, `time: 0.64`, `45ms/step`…). */
  stepTime: number | null;
  /** Seconds an epoch took (`Epoch time: 293.48 s`): the step time when the step is the epoch. */
  epochTime: number | null;
  /** A metrics dict (`{'loss': …, 'epoch': …}`) that belongs to the last step. */
  metricsDict: boolean;
  /** The line is a table header naming its first column (`Epoch  GPU_mem  box_loss …`). */
  header: string | null;
  /** The line is one key's row of a metrics table (`| loss | 0.482 |`). */
  tableRow: boolean;
}

// Detection repositories name their evaluation passes by what they do (PyTorch-YOLOv3's
// `Detecting objects: 100% 13/13` and `Computing AP: 100% 1/1`).
const EVAL_WORD =
  /\b(?:val|valid|validation|validating|eval|evaluation|evaluating|evaluate|test|testing|predict|predicting|inference|detecting|computing (?:m?ap|metrics?))\b|\bmAP/i;
const CHORE_WORD =
  /\b(?:map|filter|scan\w*|download\w*|load\w*|generat\w*|tokeniz\w*|preprocess\w*|extract\w*|upload\w*|sav\w*|convert\w*|fetch\w*|resolv\w*|shard\w*|build\w*|caching|cache|reading|writing|copy\w*|unpack\w*|sanity)\b/i;

/** Whether `text` names an evaluation, validation or test loop (`val`, `eval`, `Test set:`…). */
export function namesEvaluation(text: string): boolean {
  return EVAL_WORD.test(text);
}

/**
 * One line being read by the counter tokenisers in turn: the reading they fill, and the spans
 * of the line already taken, so a later tokeniser does not read the same characters again
 * (`Epoch 1: 45%|███| 450/1000 [..]` is one tqdm bar, not also a fraction).
 */
export class LineScan {
  readonly reading: LineReading = {
    counters: [],
    epoch: null,
    epochTotal: null,
    epochAt: -1,
    epochEval: false,
    loss: null,
    stepTime: null,
    epochTime: null,
    metricsDict: false,
    header: null,
    tableRow: false,
  };
  private readonly spans: [number, number][] = [];
  /** Most lines have no evaluation word at all; then no part of them needs the test. */
  private readonly lineEval: boolean;

  constructor(readonly line: string) {
    this.lineEval = EVAL_WORD.test(line);
  }

  /** Whether `text` (a part of the line) names an evaluation, validation or test loop. */
  isEval(text: string): boolean {
    return this.lineEval && EVAL_WORD.test(text);
  }

  /** Whether `text` (a bar's description) names work that is not training. */
  isChore(text: string): boolean {
    return CHORE_WORD.test(text);
  }

  /** Whether characters `from`–`to` overlap a part an earlier tokeniser took. */
  taken(from: number, to: number): boolean {
    return this.spans.some(([a, b]) => from < b && to > a);
  }

  /** Marks characters `from`–`to` as read. */
  claim(from: number, to: number): void {
    this.spans.push([from, to]);
  }

  /** Records the line's epoch; the first one printed wins. */
  noteEpoch(epoch: number, total: number | null, at: number, evalMode: boolean): void {
    if (this.reading.epoch !== null) return;
    this.reading.epoch = epoch;
    this.reading.epochTotal = total;
    this.reading.epochAt = at;
    this.reading.epochEval = evalMode;
  }
}

/** Letters only, lower case: a bar's description without its changing numbers. */
export function letters(text: string): string {
  return text
    .replace(/[^A-Za-z]+/g, " ")
    .trim()
    .toLowerCase()
    .slice(-32);
}
