import type { LineScan } from "./line-reading.ts";
import { LOG_NUMBER, parseLogNumber } from "./log-number.ts";

// A metrics table that prints one key a row between borders: Stable-Baselines3's logger
// (`|    total_timesteps      | 73728     |`), Ray Train's result box
// (`│ training_iteration      20 │`), rllib and Tune's tables alike. The row's border hides the
// key from the other readers, so the row is read whole here: its key, one number, nothing else.
const ROW = new RegExp(
  String.raw`^\s*[|│┃]\s*(?<key>[A-Za-z][\w/.]*)\s*[|│┃]?\s*(?<v>${LOG_NUMBER})\s*[|│┃]\s*$`,
);

// The keys that count the run's steps. SB3's `iterations` (rollouts) and `n_updates`, and
// `episodes`, count something else and stay unread.
const STEP_KEYS = new Set([
  "total_timesteps",
  "timesteps_total",
  "num_timesteps",
  "timesteps",
  "training_iteration",
  "global_step",
  "step",
]);
// The training loss, under the key alone or its train namespace; `value_loss`,
// `entropy_loss` and `val_loss` are other losses.
const LOSS_KEYS = /^(?:train(?:ing)?[/_])?loss$/i;
// The last iteration's own duration (Ray's `time_this_iter_s`), not the run's time so far.
const STEP_TIME_KEYS = new Set(["time_this_iter_s"]);

/** Whether the line opens with a table border, checked by character before any pattern. */
function opensWithBorder(line: string): boolean {
  for (let i = 0; i < line.length; i += 1) {
    const c = line.charCodeAt(i);
    if (c === 32 || c === 9) continue;
    return c === 124 || c === 0x2502 || c === 0x2503;
  }
  return false;
}

/**
 * Reads a one-key row of a metrics table (`| loss | 0.482 |`, `│ training_iteration 20 │`):
 * a step key becomes a step counter, the training loss the line's loss, Ray's
 * `time_this_iter_s` its step time. Returns whether the line was such a row; the other
 * readers then leave it alone (its other keys are no counters).
 */
export function readTableRow(scan: LineScan): boolean {
  const { line, reading } = scan;
  if (!opensWithBorder(line)) return false;
  const m = ROW.exec(line);
  if (!m) return false;
  const key = (m.groups?.key ?? "").toLowerCase();
  const value = parseLogNumber(m.groups?.v);
  if (value === null) return true;
  if (STEP_KEYS.has(key)) {
    if (!Number.isInteger(value) || value < 0) return true;
    reading.counters.push({
      key: `row|${key}`,
      kind: "global",
      label: `table row '${key}'`,
      value,
      total: null,
      eval: scan.isEval(key),
      chore: false,
      epoch: null,
      at: 0,
      stepTime: null,
    });
  } else if (LOSS_KEYS.test(key)) {
    reading.loss = value;
  } else if (STEP_TIME_KEYS.has(key) && value > 0) {
    reading.stepTime = value;
  }
  reading.tableRow = true;
  scan.claim(0, line.length);
  return true;
}
