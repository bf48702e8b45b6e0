/**
 * The seconds one training step took, as a line prints it: a time per step in any unit, a rate
 * of steps per second, or a labelled timing. Only a rate of steps (it/s, iter/s, batch/s, ups)
 * is a step time: samples/s, tokens/s and images/s count something else, and are left alone.
 */

const NUMBER = String.raw`\d+(?:\.\d+)?`;

/** One way a line prints its step time; `inverse` marks rates (steps per second). */
interface StepTimePattern {
  re: RegExp;
  /** A cheap test a line must pass before the pattern runs. */
  hint: RegExp;
  inverse?: boolean;
  /**
   * The last match is the newest: a bar that redraws without a line break piles its updates on
   * one line (Keras' `346/Unknown - 6s 34ms/step - … - 6s 31ms/step`, fastprogress).
   */
  newest?: boolean;
}

/** Most specific first; the first that matches decides. */
const STEP_TIMES: StepTimePattern[] = [
  // `45ms/step`, `757us/step`, `198.6 ms/batch`, `1.78s/it`.
  {
    re: new RegExp(
      String.raw`(?<![\d.])(?<v>${NUMBER}) ?(?<u>ms|us|µs|s)\/(?:step|it|iter|batch)\b`,
      "g",
    ),
    hint: /\d ?[mµu]?s\//,
    newest: true,
  },
  // The unit as a column label before its value: `ms/batch 108.70` (AWD-LSTM, Transformer-XL),
  // `sec/batch : 0.145` (fastprogress).
  {
    re: new RegExp(
      String.raw`(?<![A-Za-z])(?<u>ms|s|sec)\/(?:step|iter|batch)\s*[:=]?\s*(?<v>${NUMBER})(?![\d.])`,
      "g",
    ),
    hint: /\/(?:step|iter|batch)/,
    newest: true,
  },
  // `elapsed time per iteration (ms): 4103.1` (Megatron), `elapsed_time_per_iteration_ms: 11.5K`
  // (nanotron, thousands as K).
  {
    hint: /time.per/i,
    re: new RegExp(
      String.raw`(?<![A-Za-z])time[ _]per[ _](?:iteration|iter|step|batch)(?:_(?<pu2>ms|s)\b|\s*\((?<pu>ms|s)\))?\s*[:=]?\s*(?<v>${NUMBER})(?<k>[kK](?![A-Za-z]))?\s*(?<u>ms|s)?`,
      "i",
    ),
  },
  // `time/batch = 0.1687s` (char-rnn).
  {
    hint: /time\s*\//i,
    re: new RegExp(
      String.raw`\btime\s*\/\s*(?:batch|step|iter|it)\s*[:=]\s*(?<v>${NUMBER})\s*(?<u>ms|s)?(?![\w.])`,
      "i",
    ),
  },
  // The training step's own timer beats the data loader's `iter_time` beside it: ESPnet2's
  // `iter_time=0.001, …, train_time=0.014`, BioNeMo's `train_step_timing in s: 0.03147`.
  {
    hint: /train/i,
    re: new RegExp(
      String.raw`(?<![A-Za-z])(?<!total[ _])train(?:ing)?[ _](?:step[ _])?tim(?:e|ing)(?:\s+in\s+(?<pu>ms|s)\b)?\s*(?:\((?<pu2>ms|s)\))?\s*[:=]\s*(?<v>${NUMBER})\s*(?<u>ms|s)?(?![\w.:])`,
      "i",
    ),
  },
  // `iter_time: 0.776s` (YOLOX), `Batch time: 0.15` (OpenPCDet), `batch_cost: 0.3723` and
  // `avg_batch_cost: 2.04909 s` (Paddle: seconds per batch).
  {
    hint: /(?:step|iter|batch).?(?:time|cost)/i,
    re: new RegExp(
      String.raw`(?<![A-Za-z])(?:per[- ]step|step|iter|batch)[ _-]?(?:time|cost)\s*(?:\((?<pu>ms|s)\))?\s*[:=]?\s*(?<v>${NUMBER})\s*(?<u>ms|s)?(?![\w.])`,
      "i",
    ),
  },
  // `(0.450 sec/step)` (TF-Slim), `0.0589 s/iter`.
  {
    re: new RegExp(
      String.raw`(?<![\d.])(?<v>${NUMBER})\s*(?:s|sec|secs|seconds)\s*\/\s*(?:it|iter|step|batch)\b`,
      "i",
    ),
    hint: /(?:s|sec)\s*\//i,
  },
  // Rates of steps: `2.31it/s`, `6.24695 iter/s` (Caffe), `2.09 batch/s`.
  {
    re: new RegExp(
      String.raw`(?<![\d.])(?<v>${NUMBER})\s*(?:it|iters?|steps?|batch(?:es)?|updates)\/s(?:ec)?\b`,
      "i",
    ),
    hint: /\/s/,
    inverse: true,
  },
  // A rate of steps by its key: CLU's `steps_per_second=1.76`, `steps_per_sec: 2.1`,
  // `global_step/sec: 0.034` (TF Estimator), `iters/sec = 3.2`.
  {
    re: new RegExp(
      String.raw`(?<![A-Za-z])(?:global_)?(?:steps?|iters?|iterations?|batch(?:es)?)(?:[ _]per[ _](?:second|sec|s)|\/sec)['"]?\s*[=:]\s*['"]?(?<v>${NUMBER})(?![\d.])`,
      "i",
    ),
    hint: /per.sec|per.s\b|\/sec/i,
    inverse: true,
  },
  // Updates per second: fairseq's `ups=0.5`, and `"ups": "1.62"` in its JSON log.
  {
    re: new RegExp(String.raw`\bups['"]?\s*[=:]\s*['"]?(?<v>${NUMBER})`),
    hint: /ups/,
    inverse: true,
  },
  // A bare `time: 0.647` (mmcv, detectron2, torchvision), but not an elapsed, epoch or data time.
  {
    hint: /time/i,
    re: new RegExp(
      String.raw`(?<!(?:elapsed|total|epoch|data|eval|val|forward|backward|load|wall)[ _-]?)(?<![A-Za-z_-])time\s*(?:[:=]\s*(?<v>${NUMBER})\s*(?<u>ms|s)?(?![\d:])|\s+(?<v2>${NUMBER})\s*(?<u2>ms|s)\b)`,
      "i",
    ),
  },
];

/** A line can print a step time only if it has one of these. */
const ANY_STEP_TIME = /tim|took|\/s|s\/|sec\/|ups|cost/i;

/** A rate of steps by its key (`steps_per_second`) passes none of those words. */
function namesRateKey(line: string): boolean {
  return line.includes("per_s") || line.includes("per s") || line.includes("PER_S");
}

const EPOCH_TIME =
  /\bepoch[ _](?:time|took)\s*[:=]?\s*(?<v>\d+(?:\.\d+)?)\s*(?<u>ms|s|sec|seconds|min|minutes)?\b/i;
const EPOCH_HINT = /epoch/i;
const EPOCH_TIME_HINT = /time|took/i;

/** `value` in `unit` as seconds (no unit: seconds). */
export function seconds(value: number, unit: string | undefined): number {
  switch (unit?.toLowerCase()) {
    case "ms":
      return value / 1000;
    case "us":
    case "µs":
      return value / 1e6;
    case "min":
    case "minutes":
      return value * 60;
    default:
      return value;
  }
}

/**
 * The last match of `re` on the line, leaving out one in parentheses after another (a running
 * mean printed beside the step's own time, `0.45s/it (0.52s/it)`).
 */
function lastMatch(re: RegExp, line: string): RegExpExecArray | null {
  let found: RegExpExecArray | null = null;
  re.lastIndex = 0;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) {
    if (found && line[m.index - 1] === "(") continue;
    found = m;
  }
  return found;
}

/** Seconds per step the line prints, or null when it prints none (or only other throughputs). */
export function readStepTime(line: string): number | null {
  if (!ANY_STEP_TIME.test(line) && !namesRateKey(line)) return null;
  for (const { re, hint, inverse, newest } of STEP_TIMES) {
    if (!hint.test(line)) continue;
    const m = newest ? lastMatch(re, line) : re.exec(line);
    if (!m) continue;
    const g = m.groups ?? {};
    const v = Number(g.v ?? g.v2) * (g.k ? 1000 : 1);
    if (!Number.isFinite(v)) continue;
    if (inverse) return v > 0 ? 1 / v : null;
    return seconds(v, g.u ?? g.u2 ?? g.pu ?? g.pu2);
  }
  return null;
}

/** Seconds an epoch took (`Epoch time: 293.48 s`, `This epoch took 75.09 s`), or null. */
export function readEpochTime(line: string): number | null {
  if (!EPOCH_HINT.test(line) || !EPOCH_TIME_HINT.test(line)) return null;
  const m = EPOCH_TIME.exec(line);
  return m ? seconds(Number(m.groups?.v), m.groups?.u) : null;
}
