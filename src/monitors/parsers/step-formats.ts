import { LOG_NUMBER } from "./log-number.ts";
import { nnunetFormat } from "./nnunet-step-format.ts";
import { regexFormat } from "./regex-step-format.ts";
import type { StepFormat } from "./step-format.ts";
import { lightningFormat, tqdmFormat } from "./tqdm-step-formats.ts";

const KEY_LOSS = new RegExp(String.raw`(?:^|[\s,])loss:\s*(?<loss>${LOG_NUMBER})`);
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
      String.raw`\biter: (?<step>\d+)\s+total_loss: (?<loss>${LOG_NUMBER})(?:.*?\stime: (?<stepTime>\d+(?:\.\d+)?))?`,
    ),
  }),
  regexFormat({
    name: "timm",
    description: "timm train.py: 'Train: 3 [ 100/1251 (  8%)]  Loss: 5.11 (5.06)  Time: 0.445s'",
    requires: "Train: ",
    pattern: new RegExp(
      String.raw`\bTrain: (?<epoch>\d+) \[\s*(?<step>\d+)\/(?<total>\d+)[^\]]*\](?:\s+Loss:\s*(?<loss>${LOG_NUMBER}))?(?:.*?\bTime:\s*(?<stepTime>\d+(?:\.\d+)?)s)?`,
    ),
  }),
  regexFormat({
    name: "fairseq",
    description: "fairseq progress: '| epoch 001:    450 / 1891 loss=11.521, ..., ups=0.5'",
    pattern: new RegExp(
      String.raw`\bepoch (?<epoch>\d+):\s+(?<step>\d+) \/ (?<total>\d+)\b(?:.*?\bloss=(?<loss>${LOG_NUMBER}))?`,
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
    loss: new RegExp(String.raw`\bl_(?:g_)?pix:\s*(?<loss>${LOG_NUMBER})`),
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
    loss: new RegExp(String.raw`\b[Ll]oss\b['"]?\s*[:=]?\s*(?<loss>${LOG_NUMBER})`),
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
      String.raw`\bEpoch:?\s*(?<epoch>\d+)\s*\[\s*(?<step>\d+)\s*\/\s*(?<total>\d+)[^\]]*\](?:.*?\bLoss:?\s*(?<loss>${LOG_NUMBER}))?`,
      "i",
    ),
  }),
  regexFormat({
    name: "step",
    description: "plain 'step 549/4000' or 'Step: 549 of 4000', with optional 'loss'",
    pattern: /\bstep[\s:#=]*(?<step>\d+)\s*(?:\/|of)\s*(?<total>\d+)/i,
    loss: new RegExp(String.raw`\bloss\b['"]?\s*[:=]?\s*(?<loss>${LOG_NUMBER})`, "i"),
  }),
];
