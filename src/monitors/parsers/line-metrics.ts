import { type LineScan, namesEvaluation } from "./line-reading.ts";
import { LOG_NUMBER, parseLogNumber } from "./log-number.ts";
import { readEpochTime, readStepTime } from "./step-time.ts";

const LOSS_HINT = /loss/i;

// A mode word after the label names the training loss too: litgpt's `loss train: 1.06, val: 1.05`
// and `loss train (curr): 1.16`.
// A namespaced key that puts the mode after the loss names it too: Composer's `loss/train/total: 10.97`.
const LOSS_SOURCE = String.raw`(?<![A-Za-z0-9_])(?<!\b(?:val|valid|validation|eval|test|dev)[ _])(?:train(?:ing)?_|total_)?loss(?![A-Za-z0-9_])(?:\s+train(?:ing)?(?:\s*\([a-z ]{1,12}\))?|\s*\(train(?:ing)?\)|\/train(?:ing)?(?:\/[A-Za-z_]+)?)?['"]?\]?\s*[:=]?\s*\(?['"]?(?<v>${LOG_NUMBER})(?![\w.])`;
const LOSS = new RegExp(LOSS_SOURCE, "i");
/** Every loss of a line, for a line that prints the same label more than once. */
const LOSSES = new RegExp(LOSS_SOURCE, "gi");

/**
 * The newest of a bar's redraws piled on one line (Keras on a console that shows no backspace:
 * `346/Unknown - loss: 0.5130 - … - loss: 0.4867`): the last match of the first one's label.
 */
function newestLoss(line: string, first: RegExpExecArray): RegExpExecArray {
  const label = first[0].slice(0, first[0].lastIndexOf(first.groups?.v ?? ""));
  if (line.indexOf(label, (first.index ?? 0) + first[0].length) < 0) return first;
  let newest = first;
  const from = (first.index ?? 0) + first[0].length;
  for (const m of line.matchAll(LOSSES)) {
    const at = m.index ?? 0;
    if (!m[0].startsWith(label) || at <= (newest.index ?? 0)) continue;
    // `train: loss: 0.5 | valid: loss: 0.7` is two loops on one line, not one bar's redraws.
    if (namesEvaluation(line.slice(from, at))) break;
    newest = m;
  }
  return newest;
}

// Without a `loss` label, the first loss term in the `l_pix: 1.9e-03` convention (BasicSR, ESRGAN).
const LOSS_TERM = new RegExp(String.raw`(?<![A-Za-z0-9_])l_[a-z][a-z_]*:\s*(?<v>${LOG_NUMBER})`);

// Without a plain `loss`, one loss named by a prefix (`step_loss : 0.48`, `Mask_Loss 1.67`,
// `reduced_train_loss: 1.34`) is the loss; several (`box_loss`, `cls_loss`…) are terms of one, and
// none of them is the loss.
const PREFIXED_LOSS = new RegExp(
  String.raw`(?<![A-Za-z0-9_])(?<name>[A-Za-z][A-Za-z0-9_]*?)_loss(?![A-Za-z0-9_])['"]?\s*[:=]?\s*['"]?(?<v>${LOG_NUMBER})(?![\w.])`,
  "gi",
);
const NOT_TRAINING = /^(?:val|valid|validation|eval|test|dev)(?:_|$)/i;

// Without any loss label, the cross-entropy is the loss (OpenNMT's `xent: 3.94`).
const CROSS_ENTROPY = new RegExp(
  String.raw`(?<![A-Za-z0-9_])(?:xent|cross[_ -]?entropy)['"]?\s*[:=]?\s*['"]?(?<v>${LOG_NUMBER})(?![\w.])`,
  "i",
);
const CROSS_ENTROPY_HINT = /xent|entropy/i;

/** The one prefixed loss of a line (`step_loss`), or null when there is none or several. */
function prefixedLoss(line: string): number | null {
  let found: { name: string; value: string } | null = null;
  for (const m of line.matchAll(PREFIXED_LOSS)) {
    const name = (m.groups?.name ?? "").toLowerCase();
    if (NOT_TRAINING.test(name)) continue;
    if (found && found.name !== name) return null;
    found = { name, value: m.groups?.v ?? "" };
  }
  return found ? parseLogNumber(found.value) : null;
}

/**
 * The training loss, whether the line is a metrics dict, and the step and epoch times a line
 * prints. A counter's own rate (a tqdm bar's `2.31it/s`) is the step time when there is one, so
 * this runs after the counters are read.
 */
export function readLineMetrics(scan: LineScan): void {
  const { line, reading } = scan;
  const hasLoss = LOSS_HINT.test(line);
  const labelled = hasLoss ? LOSS.exec(line) : null;
  const loss =
    (labelled ? newestLoss(line, labelled) : null) ??
    (line.includes("l_") ? LOSS_TERM.exec(line) : null);
  if (loss) reading.loss = parseLogNumber(loss.groups?.v);
  else if (hasLoss && line.includes("_")) reading.loss = prefixedLoss(line) ?? reading.loss;
  if (reading.loss === null && CROSS_ENTROPY_HINT.test(line)) {
    const xent = CROSS_ENTROPY.exec(line);
    if (xent) reading.loss = parseLogNumber(xent.groups?.v);
  }
  reading.metricsDict =
    /\{\s*['"]/.test(line) && /['"](?:loss|epoch|train_loss)['"]\s*:/.test(line);
  const bar = reading.counters.find((c) => c.stepTime !== null);
  if (bar) {
    reading.stepTime = bar.stepTime;
    return;
  }
  reading.stepTime = readStepTime(line);
  reading.epochTime = readEpochTime(line);
}
