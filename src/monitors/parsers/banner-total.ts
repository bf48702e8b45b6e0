import { LOG_COUNT, parseLogNumber } from "./log-number.ts";

// The run's planned number of steps, as a trainer's start-up banner or argument dump states it:
// Hugging Face's `  Total optimization steps = 564` (Trainer, TFTrainer, accelerate scripts),
// `max_steps: 5000`, Megatron's `  train_iters ........ 500000`. A whole statement: the key, `=`,
// `:` or a dotted leader, the number, nothing after.
const BANNER_TOTAL = new RegExp(
  String.raw`^(?:.*?(?:\s-\s|>>|\]|\|))?\s*(?:total (?:optimization|training) steps|max(?:imum)?[ _]steps|total[ _]steps|num[ _]training[ _]steps|train[ _]iters)\s*(?:[:=]|\.{3,})\s*(?<n>${LOG_COUNT})\s*$`,
  "i",
);
/** A line may state the total only if it names steps or iters. */
const HINT = /steps|iters/i;

/**
 * The number of steps a line announces for the whole run (`Total optimization steps = 564`), or
 * null. Counts that are not the run's steps (`Total steps per epoch`, `warmup_steps`, `Num
 * Epochs = 3`) are not it.
 */
export function readBannerTotal(line: string): number | null {
  if (!HINT.test(line)) return null;
  const m = BANNER_TOTAL.exec(line);
  const n = parseLogNumber(m?.groups?.n);
  return n !== null && n > 0 ? n : null;
}
