import type { StepPoint } from "../../model/monitoring.ts";
import { LOG_NUMBER, parseLogNumber } from "./log-number.ts";
import { namedGroup, type StepFormat, type StepMatcher, stepPoint } from "./step-format.ts";

// tqdm: `45%|███ | 450/1000 [01:02<01:10,  2.31it/s, loss=0.3]` or `150it [00:03, 46.84it/s]`.
// The closing `]` is required: a bar cut off mid-write is not a progress point.
const TQDM_BAR = String.raw`(?:\d{1,3}%\|[^|]*\|\s*)?(?<step>\d+)(?:\/(?<total>\d+)|it)\s*\[(?<inside>[^\]]*)\]`;
const TQDM_RATE = /(?<value>\d+(?:\.\d+)?)\s*(?<unit>it\/s|s\/it)/;
const TQDM_LOSS = new RegExp(String.raw`\bloss=(?<loss>${LOG_NUMBER})`);

/** Every tqdm bar prints a rate, even an unknown one (`?it/s`). */
function hasTqdmRate(line: string): boolean {
  return line.includes("it/s") || line.includes("s/it");
}

function tqdmPoint(m: RegExpExecArray, epoch: number | null): StepPoint | null {
  const step = parseLogNumber(namedGroup(m, "step"));
  if (step === null) return null;
  const inside = namedGroup(m, "inside") ?? "";
  const rate = TQDM_RATE.exec(inside);
  let stepTime: number | null = null;
  if (rate) {
    const value = Number(namedGroup(rate, "value"));
    stepTime = namedGroup(rate, "unit") === "s/it" ? value : value > 0 ? 1 / value : null;
  }
  return stepPoint(step, {
    total: parseLogNumber(namedGroup(m, "total")),
    epoch,
    loss: parseLogNumber(namedGroup(TQDM_LOSS.exec(inside), "loss")),
    stepTime,
  });
}

// Hugging Face Trainer metrics: `{'loss': 0.31, 'grad_norm': 1.4, 'learning_rate': 5e-06, 'epoch': 0.01}`.
const HF_DICT = /\{'(?:loss|train_loss|eval_loss|grad_norm|learning_rate|epoch)':/;
const HF_LOSS = new RegExp(String.raw`'loss':\s*(?<loss>${LOG_NUMBER})`);
const HF_EPOCH = new RegExp(String.raw`'epoch':\s*(?<epoch>${LOG_NUMBER})`);

/**
 * A tqdm bar format. `hf-trainer` is the same bar with Hugging Face metrics dicts between
 * bars; the matcher renames itself when it sees the first dict.
 */
export function tqdmFormat(name: string, description: string, autoDetect: boolean): StepFormat {
  const bar = new RegExp(TQDM_BAR);
  return {
    name,
    description,
    autoDetect,
    createMatcher() {
      let last: StepPoint | null = null;
      let current = name;
      return {
        get name() {
          return current;
        },
        match(line) {
          if (HF_DICT.test(line)) {
            // A metrics dict carries loss and a fractional epoch but no step: it attaches to
            // the last bar's step. Without a bar there is no step to report.
            current = "hf-trainer";
            if (!last) return null;
            const loss = parseLogNumber(namedGroup(HF_LOSS.exec(line), "loss"));
            const epoch = parseLogNumber(namedGroup(HF_EPOCH.exec(line), "epoch"));
            last = { ...last, loss: loss ?? last.loss, epoch: epoch ?? last.epoch };
            return last;
          }
          if (!hasTqdmRate(line)) return null;
          const m = bar.exec(line);
          if (!m) return null;
          const found = tqdmPoint(m, last?.epoch ?? null);
          if (!found) return null;
          // A metrics dict or postfix reported the loss earlier; it stays the latest known.
          if (found.loss === null && last) found.loss = last.loss;
          last = found;
          return found;
        },
      };
    },
  };
}

/** PyTorch Lightning: a tqdm bar behind an `Epoch N:` label. */
export function lightningFormat(): StepFormat {
  const pattern = new RegExp(String.raw`\bEpoch (?<epoch>\d+):\s*(?::\s*)?${TQDM_BAR}`);
  const matcher: StepMatcher = {
    name: "lightning",
    match(line) {
      if (!hasTqdmRate(line)) return null;
      const m = pattern.exec(line);
      return m ? tqdmPoint(m, parseLogNumber(namedGroup(m, "epoch"))) : null;
    },
  };
  return {
    name: "lightning",
    description: "PyTorch Lightning bar: 'Epoch 3:  45%|███ | 450/1000 [..., 2.31it/s, loss=0.3]'",
    createMatcher: () => matcher,
  };
}
