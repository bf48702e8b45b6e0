import type { LineScan } from "./line-reading.ts";
import { LOG_NUMBER, parseLogNumber } from "./log-number.ts";

// An unlabelled count that opens the message, then a colon: Darknet's ` 46: 16729.1, 20120.0 avg
// loss, …`, DPPO's `[…][INFO] - 74: train loss 0.1510 | t: 61.0`. The message opens the line or
// follows a logging prefix's ` - `. A clock (`12:30`) has no space after its colon.
const LEADING = new RegExp(
  String.raw`(?:^|\s-\s)\s*(?<n>\d{1,9}):\s+(?:(?<v>${LOG_NUMBER})(?=[,;\s]))?`,
);
const LOSS_WORD = /\bloss\b/i;
// A bracketed step that opens a line of `key=value` metrics, after a logging prefix or none:
// CLU's metric writers (Flax, T5X, big_vision) `logging_writer.py:35] [1000] steps_per_second=1.76,
// train_loss=6.52`.
const BRACKETED = /(?:^|\]\s|\s-\s)\s*\[(?<n>\d{1,12})\]\s+(?<keys>[A-Za-z][\w/.-]*\s*=)/;
/** How a metric name of an evaluation opens: `eval_loss`, `val/accuracy`, `test_top1`. */
const EVAL_NAME = "(?:eval|val|valid|validation|test)[_/]";
const EVAL_KEY = new RegExp(String.raw`(?:^|[\s,])${EVAL_NAME}`, "i");
/** Every evaluation metric of a line, to see whether any other is left. */
const EVAL_KEYS_ALL = new RegExp(String.raw`(?:^|[\s,])${EVAL_NAME}[\w/.-]*\s*=`, "gi");
const TRAIN_KEY = new RegExp(String.raw`(?:^|[\s,])(?!${EVAL_NAME})[A-Za-z][\w/.-]*\s*=`, "i");

/**
 * A counter that opens a line reporting a loss with no label of its own (`46: … avg loss`). Only
 * on lines where no other tokeniser found a counter, and ranked below every labelled counter.
 * When the line labels no loss value, the number right after the counter is the loss (Darknet's
 * `46: 16729.1, 20120.0 avg loss`: this iteration's, then the running mean). Runs after the
 * line's metrics.
 */
export function readLeadingCounter(scan: LineScan): void {
  const { line, reading } = scan;
  if (reading.counters.length > 0) return;
  if (line.includes("[")) readBracketedStep(scan);
  if (reading.counters.length > 0 || !LOSS_WORD.test(line)) return;
  const m = LEADING.exec(line);
  if (!m) return;
  const at = m.index + m[0].indexOf(m.groups?.n ?? "");
  if (scan.taken(at, at + (m.groups?.n?.length ?? 0))) return;
  if (reading.loss === null && m.groups?.v !== undefined) reading.loss = parseLogNumber(m.groups.v);
  scan.claim(at, at + (m.groups?.n?.length ?? 0));
  reading.counters.push({
    key: "leading",
    kind: "leading",
    label: "N: … loss",
    value: Number(m.groups?.n),
    total: null,
    eval: scan.isEval(line.slice(0, at)),
    chore: false,
    epoch: null,
    at,
    stepTime: null,
  });
}

/**
 * A bracketed step opening `key=value` metrics (`[1000] steps_per_second=1.76, train_loss=6.52`).
 * The write of an evaluation (every key `eval_…`, `val_…`, `test_…`) is an evaluation counter.
 */
function readBracketedStep(scan: LineScan): void {
  const { line, reading } = scan;
  const m = BRACKETED.exec(line);
  if (!m) return;
  const n = m.groups?.n ?? "";
  const at = m.index + m[0].indexOf(`[${n}]`) + 1;
  if (scan.taken(at, at + n.length)) return;
  scan.claim(at, at + n.length);
  const metrics = line.slice(at + n.length + 1);
  reading.counters.push({
    key: "bracketed",
    kind: "leading",
    label: "[N] key=value …",
    value: Number(n),
    total: null,
    eval: EVAL_KEY.test(metrics) && !TRAIN_KEY.test(metrics.replace(EVAL_KEYS_ALL, "")),
    chore: false,
    epoch: null,
    at,
    stepTime: null,
  });
}
