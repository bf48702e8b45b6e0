import type { StepPoint } from "../types.ts";

/**
 * One logger's progress format. A matcher may keep state (for example the last tqdm step, to
 * which a later Hugging Face metrics dict attaches its loss), so each parser makes its own.
 */
export interface StepFormat {
  readonly name: string;
  readonly description: string;
  /** False when `auto` must not pick it (hf-trainer: tqdm detects it by its first dict). */
  readonly autoDetect?: boolean;
  createMatcher(): StepMatcher;
}

/** The stateful half of a {@link StepFormat}. */
export interface StepMatcher {
  /** The format's name; a matcher may refine it (tqdm becomes hf-trainer on a metrics dict). */
  readonly name: string;
  match(line: string): StepPoint | null;
}

const NUM = String.raw`[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|NaN|-?inf`;

/** Parses a number as loggers print it: `4,600`, `1.2e-3`, `nan`, `inf`. */
export function parseLogNumber(text: string | undefined): number | null {
  if (text === undefined || text === "") return null;
  const cleaned = text.replace(/,/g, "").trim().toLowerCase();
  if (cleaned === "nan") return Number.NaN;
  if (cleaned === "inf" || cleaned === "+inf") return Number.POSITIVE_INFINITY;
  if (cleaned === "-inf") return Number.NEGATIVE_INFINITY;
  const value = Number(cleaned);
  return Number.isNaN(value) ? null : value;
}

function point(step: number, fields: Partial<Omit<StepPoint, "step">> = {}): StepPoint {
  return {
    step,
    total: fields.total ?? null,
    epoch: fields.epoch ?? null,
    loss: fields.loss ?? null,
    stepTime: fields.stepTime ?? null,
  };
}

/** A named capture; `name2` stands in where an alternative needed a second group. */
function group(match: RegExpExecArray | null, name: string): string | undefined {
  return match?.groups?.[name] ?? match?.groups?.[`${name}2`];
}

/** A stateless format: one regex with named groups, plus optional extra field regexes. */
function regexFormat(spec: {
  name: string;
  description: string;
  pattern: RegExp;
  loss?: RegExp;
  epoch?: RegExp;
  stepTime?: RegExp;
  /** Applied to `stepTime`'s capture (for rates like `ups=0.5` → 2 s). */
  invertStepTime?: boolean;
  /** Text every matching line contains: a cheap test that spares most lines the regex. */
  requires?: string;
  /** Text a line needs before the `stepTime` regex is worth running. */
  stepTimeRequires?: readonly string[];
}): StepFormat {
  const matcher: StepMatcher = {
    name: spec.name,
    match(line) {
      if (spec.requires !== undefined && !line.includes(spec.requires)) return null;
      const m = spec.pattern.exec(line);
      if (!m) return null;
      const step = parseLogNumber(group(m, "step"));
      if (step === null || !Number.isFinite(step)) return null;
      const lossText = group(m, "loss") ?? group(spec.loss?.exec(line) ?? null, "loss");
      const timeWorthTrying =
        spec.stepTimeRequires === undefined || spec.stepTimeRequires.some((t) => line.includes(t));
      let stepTime = parseLogNumber(
        group(m, "stepTime") ??
          (timeWorthTrying ? group(spec.stepTime?.exec(line) ?? null, "stepTime") : undefined),
      );
      if (stepTime !== null && spec.invertStepTime) stepTime = stepTime > 0 ? 1 / stepTime : null;
      return point(step, {
        total: parseLogNumber(group(m, "total")),
        epoch: parseLogNumber(group(m, "epoch") ?? group(spec.epoch?.exec(line) ?? null, "epoch")),
        loss: parseLogNumber(lossText),
        stepTime,
      });
    },
  };
  return { name: spec.name, description: spec.description, createMatcher: () => matcher };
}

// tqdm: `45%|███ | 450/1000 [01:02<01:10,  2.31it/s, loss=0.3]` or `150it [00:03, 46.84it/s]`.
// The closing `]` is required: a bar cut off mid-write is not a progress point.
const TQDM_BAR = String.raw`(?:\d{1,3}%\|[^|]*\|\s*)?(?<step>\d+)(?:\/(?<total>\d+)|it)\s*\[(?<inside>[^\]]*)\]`;
const TQDM_RATE = /(?<value>\d+(?:\.\d+)?)\s*(?<unit>it\/s|s\/it)/;
const TQDM_LOSS = new RegExp(String.raw`\bloss=(?<loss>${NUM})`);

/** Every tqdm bar prints a rate, even an unknown one (`?it/s`). */
function hasTqdmRate(line: string): boolean {
  return line.includes("it/s") || line.includes("s/it");
}

function tqdmPoint(m: RegExpExecArray, epoch: number | null): StepPoint | null {
  const step = parseLogNumber(group(m, "step"));
  if (step === null) return null;
  const inside = group(m, "inside") ?? "";
  const rate = TQDM_RATE.exec(inside);
  let stepTime: number | null = null;
  if (rate) {
    const value = Number(group(rate, "value"));
    stepTime = group(rate, "unit") === "s/it" ? value : value > 0 ? 1 / value : null;
  }
  return point(step, {
    total: parseLogNumber(group(m, "total")),
    epoch,
    loss: parseLogNumber(group(TQDM_LOSS.exec(inside), "loss")),
    stepTime,
  });
}

// Hugging Face Trainer metrics: `{'loss': 0.31, 'grad_norm': 1.4, 'learning_rate': 5e-06, 'epoch': 0.01}`.
const HF_DICT = /\{'(?:loss|train_loss|eval_loss|grad_norm|learning_rate|epoch)':/;
const HF_LOSS = new RegExp(String.raw`'loss':\s*(?<loss>${NUM})`);
const HF_EPOCH = new RegExp(String.raw`'epoch':\s*(?<epoch>${NUM})`);

function tqdmFormat(name: string, description: string, autoDetect: boolean): StepFormat {
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
            const loss = parseLogNumber(group(HF_LOSS.exec(line), "loss"));
            const epoch = parseLogNumber(group(HF_EPOCH.exec(line), "epoch"));
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

function lightningFormat(): StepFormat {
  const pattern = new RegExp(String.raw`\bEpoch (?<epoch>\d+):\s*(?::\s*)?${TQDM_BAR}`);
  const matcher: StepMatcher = {
    name: "lightning",
    match(line) {
      if (!hasTqdmRate(line)) return null;
      const m = pattern.exec(line);
      return m ? tqdmPoint(m, parseLogNumber(group(m, "epoch"))) : null;
    },
  };
  return {
    name: "lightning",
    description: "PyTorch Lightning bar: 'Epoch 3:  45%|███ | 450/1000 [..., 2.31it/s, loss=0.3]'",
    createMatcher: () => matcher,
  };
}

function nnunetFormat(): StepFormat {
  const epochLine = /(?:^|: )Epoch (?<epoch>\d+)\s*$/;
  const trainLoss = new RegExp(String.raw`: train_loss (?<loss>${NUM})\s*$`);
  const epochTime = /: Epoch time: (?<seconds>\d+(?:\.\d+)?) s\s*$/;
  return {
    name: "nnunet",
    description: "nnU-Net epoch blocks: 'Epoch 12', 'train_loss -0.19', 'Epoch time: 293.48 s'",
    createMatcher() {
      let epoch: number | null = null;
      let loss: number | null = null;
      return {
        name: "nnunet",
        match(line) {
          const started = epochLine.exec(line);
          if (started) {
            epoch = Number(group(started, "epoch"));
            loss = null;
            return point(epoch, { epoch });
          }
          if (epoch === null) return null;
          const lossMatch = trainLoss.exec(line);
          if (lossMatch) {
            loss = parseLogNumber(group(lossMatch, "loss"));
            return point(epoch, { epoch, loss });
          }
          const timeMatch = epochTime.exec(line);
          if (timeMatch) {
            return point(epoch, { epoch, loss, stepTime: Number(group(timeMatch, "seconds")) });
          }
          return null;
        },
      };
    },
  };
}

const KEY_LOSS = new RegExp(String.raw`(?:^|[\s,])loss:\s*(?<loss>${NUM})`);
const KEY_TIME = /(?:^|[\s,])time:\s*(?<stepTime>\d+(?:\.\d+)?)/;

/**
 * The presets `format: auto` tries, in this order: the most distinctive first, so a generic
 * pattern never claims a log that a specific one describes better.
 */
export const STEP_FORMATS: readonly StepFormat[] = [
  regexFormat({
    name: "mmengine",
    description:
      "mmengine / mmcv text logger: 'Iter(train) [ 50/160000]', 'Iter [2200/320000]', 'Epoch(train)  [1][ 500/2931]', 'Epoch [1][50/1000]'",
    pattern:
      /\b(?:Iter(?:\(train\))?\s*\[\s*(?<step>\d+)\/(?<total>\d+)\]|Epoch(?:\(train\))?\s*\[(?<epoch>\d+)\]\s*\[\s*(?<step2>\d+)\/(?<total2>\d+)\])/,
    loss: KEY_LOSS,
    stepTime: KEY_TIME,
    stepTimeRequires: ["time:"],
  }),
  regexFormat({
    name: "detectron2",
    description:
      "detectron2 metrics printer: 'eta: 0:05:14  iter: 39  total_loss: 1.872 ... time: 1.2'",
    requires: "total_loss:",
    pattern: new RegExp(
      String.raw`\biter: (?<step>\d+)\s+total_loss: (?<loss>${NUM})(?:.*?\stime: (?<stepTime>\d+(?:\.\d+)?))?`,
    ),
  }),
  regexFormat({
    name: "timm",
    description: "timm train.py: 'Train: 3 [ 100/1251 (  8%)]  Loss: 5.11 (5.06)  Time: 0.445s'",
    requires: "Train: ",
    pattern: new RegExp(
      String.raw`\bTrain: (?<epoch>\d+) \[\s*(?<step>\d+)\/(?<total>\d+)[^\]]*\](?:\s+Loss:\s*(?<loss>${NUM}))?(?:.*?\bTime:\s*(?<stepTime>\d+(?:\.\d+)?)s)?`,
    ),
  }),
  regexFormat({
    name: "fairseq",
    description: "fairseq progress: '| epoch 001:    450 / 1891 loss=11.521, ..., ups=0.5'",
    pattern: new RegExp(
      String.raw`\bepoch (?<epoch>\d+):\s+(?<step>\d+) \/ (?<total>\d+)\b(?:.*?\bloss=(?<loss>${NUM}))?`,
    ),
    stepTime: /\bups=(?<stepTime>\d+(?:\.\d+)?)/,
    stepTimeRequires: ["ups="],
    invertStepTime: true,
  }),
  regexFormat({
    name: "basicsr",
    description:
      "BasicSR message logger: '<epoch: 47, iter:   4,400, lr:1.000e-04>' or '[epoch:  0, iter:     100, ...]'",
    requires: "epoch:",
    pattern: /[<[]epoch:\s*(?<epoch>\d+),\s*iter:\s*(?<step>\d{1,3}(?:,\d{3})*|\d+)/,
    loss: new RegExp(String.raw`\bl_(?:g_)?pix:\s*(?<loss>${NUM})`),
  }),
  nnunetFormat(),
  lightningFormat(),
  tqdmFormat(
    "hf-trainer",
    "Hugging Face Trainer: tqdm bars plus metrics dicts {'loss': ..., 'epoch': ...}",
    false,
  ),
  tqdmFormat(
    "tqdm",
    "tqdm bar: ' 45%|███ | 450/1000 [01:02<01:10,  2.31it/s]' (it/s or s/it)",
    true,
  ),
  regexFormat({
    name: "train-step",
    description:
      "'Train step 549' lines, optionally '/4000', 'epoch 0', 'loss 0.31', '18.2 s/step'",
    // Explicit cases instead of the i flag: this runs on every line and /i is slower.
    pattern:
      /\b(?:[Tt]rain(?:ing)?[ _-][Ss]tep|TRAIN(?:ING)?[ _-]STEP)[\s:#=]*(?<step>\d+)(?:\s*(?:\/|of)\s*(?<total>\d+))?/,
    loss: new RegExp(String.raw`\b[Ll]oss\b['"]?\s*[:=]?\s*(?<loss>${NUM})`),
    epoch: /\b[Ee]poch[\s:=]*(?<epoch>\d+)/,
    stepTime:
      /(?<stepTime>\d+(?:\.\d+)?) ?s\/(?:step|it)\b|\bstep_time[=:\s]+(?<stepTime2>\d+(?:\.\d+)?)/i,
    stepTimeRequires: ["s/", "step_time"],
  }),
  regexFormat({
    name: "epoch-batch",
    description:
      "'Epoch 12 [40/314] Loss: 0.156' and the PyTorch examples' 'Train Epoch: 1 [640/60000 (1%)]'",
    pattern: new RegExp(
      String.raw`\bEpoch:?\s*(?<epoch>\d+)\s*\[\s*(?<step>\d+)\s*\/\s*(?<total>\d+)[^\]]*\](?:.*?\bLoss:?\s*(?<loss>${NUM}))?`,
      "i",
    ),
  }),
  regexFormat({
    name: "step",
    description: "plain 'step 549/4000' or 'Step: 549 of 4000', with optional 'loss'",
    pattern: /\bstep[\s:#=]*(?<step>\d+)\s*(?:\/|of)\s*(?<total>\d+)/i,
    loss: new RegExp(String.raw`\bloss\b['"]?\s*[:=]?\s*(?<loss>${NUM})`, "i"),
  }),
];
