import { LOG_NUMBER, parseLogNumber } from "./log-number.ts";

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
  | "column";

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
}

const NUM = String.raw`\d{1,3}(?:,\d{3})+(?!\d)|\d+`;
const LABELS = String.raw`global[ _]?steps?|train(?:ing)?[ _]steps?|num_updates|iterations?|iters?|steps?|batch(?:es)?|epochs?|updates?|it(?=\s*[:=])`;
// A plural label counts something else when a word like these comes first ("Total steps = 1752",
// "Num Epochs = 3", "number of skipped iterations: 0", "warmup_steps").
const COUNT_WORDS =
  /(?:total|num|number|max|min|warmup|accumulation|skipped|nan|optimization|eval|save|log|logging|every|per|of|train|training|the)\W*$/i;

// A label, an optional mode `(train)`/`(val)`, separators, `N`, `N/M`, `[N/M]`, `N of M`, and an
// inner `[i/n]` or `: i / n` that the label's value is the outer index of.
// Where a label may start: a plain alternation V8 scans fast. The full pattern then runs anchored
// (sticky) at each hit instead of being tried at every position of every line.
const LABEL_START =
  /global[ _]?step|train(?:ing)?[ _]step|num_updates|iteration|iter|step|batch|epoch|update|it/gi;
const LABELLED = new RegExp(
  String.raw`(?<label>${LABELS})(?![A-Za-z0-9_])(?:\s*\((?<mode>[A-Za-z]+)\))?['"]?\]?\s*[:=#]?\s*['"]?(?:\[\s*)?(?<n>${NUM}(?:\.\d+)?)(?![\d.]*[A-Za-z%])(?:\s*(?:\/|\bof\b)\s*(?<m>${NUM})(?![\d.]*[A-Za-z%]))?(?:\s*\])?(?:(?:\s*\[\s*|:\s+)(?<i>${NUM})\s*\/\s*(?<k>${NUM})(?:[^\][\n]{0,24}\])?)?`,
  "iy",
);

/** Labelled counters on a line: each label start checked by hand, then the sticky pattern. */
function* labelledMatches(line: string): Generator<RegExpExecArray> {
  LABEL_START.lastIndex = 0;
  for (let hit = LABEL_START.exec(line); hit; hit = LABEL_START.exec(line)) {
    const at = hit.index;
    // Not inside a word (`batch_size`, `commit`); a Markdown `_` may open it (`_epoch:`).
    const before = at > 0 ? line.charCodeAt(at - 1) : 32;
    const wordBefore = isWordChar(before);
    if (wordBefore && !(before === 95 && (at < 2 || !isWordChar(line.charCodeAt(at - 2)))))
      continue;
    LABELLED.lastIndex = at;
    const m = LABELLED.exec(line);
    if (!m) continue;
    LABEL_START.lastIndex = at + m[0].length;
    yield m;
  }
}

function isWordChar(code: number): boolean {
  return (
    (code >= 48 && code <= 57) ||
    (code >= 65 && code <= 90) ||
    (code >= 97 && code <= 122) ||
    code === 95
  );
}

// tqdm: `45%|███ | 450/1000 [01:02<01:10, 2.31it/s, loss=0.3]`, `250000step [00:00, ?step/s]`.
// The bracket must open on an elapsed time and close: a bar cut off mid-write is no progress.
const TQDM =
  /(?<n>\d+)(?:\/(?<m>\d+)|(?<unit>[A-Za-z]+))?\s*\[(?<inside>\s*\d+:\d\d[^\]]*?(?:\/s|s\/)[^\]]*)\]/y;
// Where a tqdm bracket opens on its elapsed time; the count is found by walking back from it.
const TQDM_OPEN = /\[\s*\d+:\d\d/g;

/** tqdm bars on a line: each `[mm:ss` found first, then the bar matched anchored at its count. */
function* tqdmMatches(line: string): Generator<RegExpExecArray> {
  TQDM_OPEN.lastIndex = 0;
  for (let hit = TQDM_OPEN.exec(line); hit; hit = TQDM_OPEN.exec(line)) {
    let j = hit.index - 1;
    while (j >= 0 && line.charCodeAt(j) === 32) j -= 1;
    // `150it [` / `250000step [`: a unit after the count.
    while (j >= 0 && isLetter(line.charCodeAt(j))) j -= 1;
    // `450/1000 [` or `150it [`: the count, perhaps with its total.
    while (j >= 0 && isDigit(line.charCodeAt(j))) j -= 1;
    if (j >= 0 && line.charCodeAt(j) === 47) {
      j -= 1;
      while (j >= 0 && isDigit(line.charCodeAt(j))) j -= 1;
    }
    const start = j + 1;
    if (start >= hit.index || !isDigit(line.charCodeAt(start))) continue;
    const before = start > 0 ? line.charCodeAt(start - 1) : 32;
    if (isWordChar(before) || before === 46 || before === 47) continue;
    TQDM.lastIndex = start;
    const m = TQDM.exec(line);
    if (!m) continue;
    TQDM_OPEN.lastIndex = start + m[0].length;
    yield m;
  }
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}
// tqdm with a custom bar_format and no brackets: `100%|██████████| 1849/1849 13:15`.
// The elapsed time must follow: a bar cut off mid-write is no progress.
const BARE_BAR = /\d{1,3}%\|[^|\n]*\|\s*(?<n>\d+)\/(?<m>\d+)\s+\d+:\d\d(?![\d:]*\s*[<\]])/g;
// A number with its label glued after it: ESPnet2 `5epoch:train:5251-5625batch`, `91300 iter`.
const SUFFIXED =
  /(?<![\w./-])(?:(?<a>\d+)-)?(?<n>\d+) ?(?<label>epoch|iteration|iter|step|batch)(?![A-Za-z])(?:\s*\/\s*(?<m>\d+))?/gi;
/** Cheap tests that spare most lines the full patterns. */
function hasTqdmBracket(line: string): boolean {
  return line.includes("[") && (line.includes("/s") || line.includes("s/"));
}
const SUFFIX_HINT = /\d ?(?:epoch|iter|step|batch)/i;
const RICH_HINT = /[━─╸╺╾╼]/;
const PROGBAR_HINT = /\[[=>.]|[━─╸╺╾╼]/;
const LOSS_HINT = /loss/i;
const EPOCH_HINT = /epoch/i;
const TQDM_RATE = /(?<v>\d+(?:\.\d+)?)\s*(?<u>[A-Za-z]+\/s|s\/[A-Za-z]+)/;

// Keras progbar `371/4899 [=====>....] - ETA: 1:23` and Keras 3 / rich `1664/1702 ━━━━━━━`;
// rich also prints the bar first: `━━━━━━━━ 1664/1702 0:07:51`.
const PROGBAR = /(?<![\w./])(?<n>\d+)\/(?<m>\d+)\s+(?:\[[=>.]*\]|[━─╸╺╾╼]+)/g;
const RICH = /[━─╸╺╾╼]+\s*(?<n>\d+)\/(?<m>\d+)(?![\d/])/g;

// An unlabelled `[i/n]`, perhaps behind its epoch: timm `Train: 3 [ 100/1251 (  8%)]`.
const BRACKET = /(?:(?<![\w.])(?<e>\d+)\s+)?\[\s*(?<i>\d+)\s*\/\s*(?<k>\d+)[^\][\n]{0,24}\]/g;

const LEADING_COLUMN = /^\s*(?<n>\d+)\/(?<m>\d+)\s/;
const HEADER =
  /^\s*(?<label>epoch|iter|iteration|step|batch)\s{2,}[A-Za-z_][\w()\-.%/]*(?:\s+[A-Za-z_][\w()\-.%/]*)+\s*$/i;

const EVAL_WORD =
  /\b(?:val|valid|validation|validating|eval|evaluation|evaluating|evaluate|test|testing|predict|predicting|inference)\b|\bmAP/i;
const CHORE_WORD =
  /\b(?:map|filter|scan\w*|download\w*|load\w*|generat\w*|tokeniz\w*|preprocess\w*|extract\w*|upload\w*|sav\w*|convert\w*|fetch\w*|resolv\w*|shard\w*|build\w*|caching|cache|reading|writing|copy\w*|unpack\w*|sanity)\b/i;

const LOSS = new RegExp(
  String.raw`(?<![A-Za-z0-9_])(?<!\b(?:val|valid|validation|eval|test|dev)[ _])(?:train(?:ing)?_|total_)?loss(?![A-Za-z0-9_])['"]?\]?\s*[:=]?\s*\(?['"]?(?<v>${LOG_NUMBER})(?![\w.])`,
  "i",
);

// Without a `loss` label, the first loss term in the `l_pix: 1.9e-03` convention (BasicSR, ESRGAN).
const LOSS_TERM = new RegExp(String.raw`(?<![A-Za-z0-9_])l_[a-z][a-z_]*:\s*(?<v>${LOG_NUMBER})`);

/** Per-step time patterns, most specific first; `inverse` marks rates (steps per second). */
const STEP_TIMES: { re: RegExp; hint: RegExp; inverse?: boolean }[] = [
  { re: /(?<![\d.])(?<v>\d+(?:\.\d+)?)(?<u>ms|us|µs|s)\/(?:step|it|iter|batch)\b/, hint: /\ds\// },
  {
    hint: /time.per/i,
    re: /\btime[ _]per[ _](?:iteration|iter|step|batch)\s*(?:\((?<pu>ms|s)\))?\s*[:=]?\s*(?<v>\d+(?:\.\d+)?)\s*(?<u>ms|s)?/i,
  },
  {
    hint: /(?:step|iter|batch).?time/i,
    re: /(?<![A-Za-z])(?:per[- ]step|step|iter|batch)[ _-]?time\s*(?:\((?<pu>ms|s)\))?\s*[:=]?\s*(?<v>\d+(?:\.\d+)?)\s*(?<u>ms|s)?(?![\w.])/i,
  },
  {
    re: /(?<![\d.])(?<v>\d+(?:\.\d+)?)\s*(?:s|sec|secs|seconds)\s*\/\s*(?:it|iter|step|batch)\b/i,
    hint: /s\s*\//,
  },
  {
    re: /(?<![\d.])(?<v>\d+(?:\.\d+)?)\s*(?:it|iters|steps?|batch(?:es)?|updates)\/s(?:ec)?\b/i,
    hint: /\/s/,
    inverse: true,
  },
  { re: /\bups[=:]\s*(?<v>\d+(?:\.\d+)?)/, hint: /ups/, inverse: true },
  {
    hint: /time/i,
    re: /(?<!(?:elapsed|total|epoch|data|eval|val|forward|backward|load|wall)[ _-]?)(?<![A-Za-z_-])time\s*(?:[:=]\s*(?<v>\d+(?:\.\d+)?)\s*(?<u>ms|s)?(?![\d:])|\s+(?<v2>\d+(?:\.\d+)?)\s*(?<u2>ms|s)\b)/i,
  },
];
const EPOCH_TIME =
  /\bepoch[ _](?:time|took)\s*[:=]?\s*(?<v>\d+(?:\.\d+)?)\s*(?<u>ms|s|sec|seconds|min|minutes)?\b/i;

function seconds(value: number, unit: string | undefined): number {
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

/** A label's identity: `Iteration` and `iters` are one counter, `Train step` and `step` two. */
function labelKey(label: string): string {
  return label
    .toLowerCase()
    .replace(/[ _]/g, "")
    .replace(/batches$/, "batch")
    .replace(/s$/, "")
    .replace(/^iteration$/, "iter");
}

function kindOf(label: string): CounterKind {
  const l = label
    .toLowerCase()
    .replace(/[ _]/g, "")
    .replace(/batches$/, "batch")
    .replace(/s$/, "");
  if (l === "globalstep") return "global";
  if (l === "epoch") return "epoch";
  if (l === "batch") return "batch";
  if (l === "iter" || l === "iteration" || l === "it") return "iter";
  return "step";
}

/** Letters only, lower case: a bar's description without its changing numbers. */
function letters(text: string): string {
  return text
    .replace(/[^A-Za-z]+/g, " ")
    .trim()
    .toLowerCase()
    .slice(-32);
}

function overlaps(spans: [number, number][], from: number, to: number): boolean {
  return spans.some(([a, b]) => from < b && to > a);
}

/**
 * Reads the counters, epoch, loss and step time printed on one log line (ANSI already removed).
 * Pure: the choice of which counter is the training step is the reader's, over many lines.
 */
export function readLine(line: string, header: string | null): LineReading {
  const reading: LineReading = {
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
  };
  if (!/\d/.test(line)) {
    const h = HEADER.exec(line);
    if (h) reading.header = (h.groups?.label ?? "").toLowerCase();
    return reading;
  }
  const spans: [number, number][] = [];
  // Most lines have no evaluation word at all; then no part of them needs the test.
  const lineEval = EVAL_WORD.test(line);
  const isEval = (text: string) => lineEval && EVAL_WORD.test(text);

  for (const m of hasTqdmBracket(line) ? tqdmMatches(line) : []) {
    const g = m.groups ?? {};
    const at = m.index ?? 0;
    // The bar's description: what precedes it, without its percentage and bar.
    const before = line.slice(0, at).replace(/\d{1,3}%\s*\|?[^|]*\|?\s*$/, "");
    const rate = TQDM_RATE.exec(g.inside ?? "");
    let stepTime: number | null = null;
    if (rate) {
      const v = Number(rate.groups?.v);
      stepTime = rate.groups?.u?.startsWith("s/") ? v : v > 0 ? 1 / v : null;
    }
    const total = g.m !== undefined ? Number(g.m) : null;
    const description = letters(before);
    reading.counters.push({
      key: `bar|${description}|${total ?? g.unit ?? "it"}`,
      kind: "bar",
      label: `tqdm bar${description ? ` '${description}'` : ""}${total !== null ? ` N/${total}` : ` N${g.unit ?? "it"}`}`,
      value: Number(g.n),
      total,
      eval: isEval(before),
      chore: CHORE_WORD.test(before),
      epoch: null,
      at,
      stepTime,
    });
    spans.push([at, at + m[0].length]);
  }

  for (const m of line.includes("%|") ? line.matchAll(BARE_BAR) : []) {
    const at = m.index ?? 0;
    if (overlaps(spans, at, at + m[0].length)) continue;
    spans.push([at, at + m[0].length]);
    const before = line.slice(0, at);
    const description = letters(before);
    const total = Number(m.groups?.m);
    reading.counters.push({
      key: `bar|${description}|${total}`,
      kind: "bar",
      label: `bar${description ? ` '${description}'` : ""} N/${total}`,
      value: Number(m.groups?.n),
      total,
      eval: isEval(before),
      chore: CHORE_WORD.test(before),
      epoch: null,
      at,
      stepTime: null,
    });
  }

  for (const m of labelledMatches(line)) {
    const g = m.groups ?? {};
    const at = m.index ?? 0;
    if (overlaps(spans, at, at + m[0].length)) continue;
    const label = g.label ?? "";
    if (/s$/i.test(label) && !/^(?:it|num_updates)$/i.test(label)) {
      if (COUNT_WORDS.test(line.slice(Math.max(0, at - 24), at))) continue;
    }
    const kind = kindOf(label);
    const value = parseLogNumber(g.n);
    if (value === null) continue;
    const total = parseLogNumber(g.m);
    const evalMode = g.mode !== undefined && isEval(g.mode);
    const end = at + m[0].length;
    // Eval words before the counter, or right after it (`Epoch 11 Val - Loss`), not later on.
    const counterEval =
      evalMode || isEval(line.slice(Math.max(0, at - 40), at)) || isEval(line.slice(end, end + 8));
    spans.push([at, at + m[0].length]);
    const shown = label.replace(/\s+/g, " ");
    if (kind === "epoch") {
      if (reading.epoch === null) {
        reading.epoch = value;
        reading.epochTotal = total;
        reading.epochAt = at;
        reading.epochEval = counterEval;
      }
      if (g.i !== undefined && Number.isInteger(value)) {
        reading.counters.push(innerCounter(shown, g.i, g.k, value, counterEval, at));
      }
      continue;
    }
    if (!Number.isInteger(value)) continue;
    reading.counters.push({
      key: `${labelKey(label)}|${g.mode?.toLowerCase() ?? ""}`,
      kind,
      label: `${shown}${total !== null ? " N/M" : " N"}`,
      value,
      total,
      eval: counterEval,
      chore: false,
      epoch: null,
      at,
      stepTime: null,
    });
    if (g.i !== undefined) {
      // `Iter [e][i/n]` is rare; the inner pair is then the in-epoch position.
      reading.counters.push(innerCounter(shown, g.i, g.k, value, counterEval, at));
    }
  }

  for (const m of SUFFIX_HINT.test(line) ? line.matchAll(SUFFIXED) : []) {
    const g = m.groups ?? {};
    const at = m.index ?? 0;
    if (overlaps(spans, at, at + m[0].length)) continue;
    spans.push([at, at + m[0].length]);
    const kind = kindOf(g.label ?? "");
    const value = Number(g.n);
    const total = g.m !== undefined ? Number(g.m) : null;
    const counterEval = isEval(line.slice(Math.max(0, at - 40), at));
    if (kind === "epoch") {
      if (reading.epoch === null) {
        reading.epoch = value;
        reading.epochTotal = total;
        reading.epochAt = at;
        reading.epochEval = counterEval;
      }
      continue;
    }
    reading.counters.push({
      key: `${kind}|suffix`,
      kind,
      label: `N${g.a !== undefined ? "-N" : ""}${(g.label ?? "").toLowerCase()}`,
      value,
      total,
      eval: counterEval,
      chore: false,
      epoch: null,
      at,
      stepTime: null,
    });
  }

  for (const re of [PROGBAR, RICH]) {
    if (!(re === RICH ? RICH_HINT.test(line) : PROGBAR_HINT.test(line))) continue;
    for (const m of line.matchAll(re)) {
      const at = m.index ?? 0;
      if (overlaps(spans, at, at + m[0].length)) continue;
      spans.push([at, at + m[0].length]);
      const before = line.slice(0, at);
      reading.counters.push({
        key: re === PROGBAR ? "progbar" : `progbar|${letters(before)}`,
        kind: "progbar",
        label: re === PROGBAR ? "progress bar N/M [===>..]" : "rich bar ━━━ N/M",
        value: Number(m.groups?.n),
        total: Number(m.groups?.m),
        eval: isEval(before),
        chore: CHORE_WORD.test(before),
        epoch: null,
        at,
        stepTime: null,
      });
    }
  }

  for (const m of line.includes("[") && line.includes("/") ? line.matchAll(BRACKET) : []) {
    const at = m.index ?? 0;
    if (overlaps(spans, at, at + m[0].length)) continue;
    spans.push([at, at + m[0].length]);
    const i = Number(m.groups?.i);
    const k = Number(m.groups?.k);
    // `[0/0]` (a compiler's frame id) or `[7/3]` is no position in a loop.
    if (k === 0 || i > k) continue;
    const before = line.slice(0, at);
    const word = letters(before).split(" ").pop() ?? "";
    const outer = m.groups?.e !== undefined ? Number(m.groups.e) : null;
    reading.counters.push({
      key: `fraction|${word}|${outer !== null ? "e" : ""}`,
      kind: "fraction",
      label: `${word ? `${word} ` : ""}${outer !== null ? "E " : ""}[i/n]`,
      value: i,
      total: k,
      eval: isEval(before),
      chore: false,
      epoch: outer,
      at,
      stepTime: null,
    });
  }

  if (header !== null) {
    const col = LEADING_COLUMN.exec(line);
    if (col && !overlaps(spans, 0, col[0].length)) {
      const value = Number(col.groups?.n);
      const total = Number(col.groups?.m);
      if (header === "epoch") {
        if (reading.epoch === null) {
          reading.epoch = value;
          reading.epochTotal = total;
          reading.epochAt = col.index;
          reading.epochEval = false;
        }
      } else {
        reading.counters.push({
          key: `column|${header}`,
          kind: "column",
          label: `'${header}' column N/M`,
          value,
          total,
          eval: false,
          chore: false,
          epoch: null,
          at: col.index,
          stepTime: null,
        });
      }
    }
  }

  const loss =
    (LOSS_HINT.test(line) ? LOSS.exec(line) : null) ??
    (line.includes("l_") ? LOSS_TERM.exec(line) : null);
  if (loss) reading.loss = parseLogNumber(loss.groups?.v);
  reading.metricsDict =
    /\{\s*['"]/.test(line) && /['"](?:loss|epoch|train_loss)['"]\s*:/.test(line);
  const bar = reading.counters.find((c) => c.stepTime !== null);
  if (bar) reading.stepTime = bar.stepTime;
  else if (/time|took|\/s|s\/|ups/i.test(line)) {
    for (const { re, hint, inverse } of STEP_TIMES) {
      if (!hint.test(line)) continue;
      const m = re.exec(line);
      if (!m) continue;
      const g = m.groups ?? {};
      const v = Number(g.v ?? g.v2);
      if (!Number.isFinite(v)) continue;
      if (inverse) {
        if (v > 0) reading.stepTime = 1 / v;
      } else reading.stepTime = seconds(v, g.u ?? g.u2 ?? g.pu);
      break;
    }
    const epochTime = EPOCH_HINT.test(line) ? EPOCH_TIME.exec(line) : null;
    if (epochTime) reading.epochTime = seconds(Number(epochTime.groups?.v), epochTime.groups?.u);
  }
  return reading;
}

/**
 * The in-epoch position of `Label [e][i/n]`: a batch counter nested in epoch `epoch`, placed
 * just after the outer counter on the line.
 */
function innerCounter(
  shown: string,
  i: string,
  n: string | undefined,
  epoch: number,
  evalMode: boolean,
  at: number,
): Counter {
  return {
    key: `inner|${shown.toLowerCase()}`,
    kind: "batch",
    label: `${shown} [e][i/n]`,
    value: parseLogNumber(i) ?? 0,
    total: parseLogNumber(n),
    eval: evalMode,
    chore: false,
    epoch,
    at: at + 1,
    stepTime: null,
  };
}
