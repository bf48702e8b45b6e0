import { isDigit, isLetter, isWordChar } from "./char-class.ts";
import { type Counter, type LineScan, letters } from "./line-reading.ts";
import { parseLogNumber } from "./log-number.ts";

// tqdm: `45%|███ | 450/1000 [01:02<01:10, 2.31it/s, loss=0.3]`, `250000step [00:00, ?step/s]`.
// The bracket must open on an elapsed time and close, or be cut (by the terminal's width, by
// whoever pasted it) inside its postfix, after the rate: a bar cut off before that is no progress.
// Lightning 2.x draws a bar of unknown length as `4540/?`.
const TQDM =
  /(?<n>\d+)(?:\/(?<m>\d+)|\/\?|(?<unit>[A-Za-z]+))?\s*\[(?<inside>\s*\d+:\d\d[^\]]*?(?:\/s|s\/)[^\]]*)(?<close>\]|$)/y;
/** A rate and the comma that opens the postfix: what an unclosed bracket must hold. */
const POSTFIX_BEGUN = /(?:[A-Za-z?]\/s|s\/[A-Za-z]+)\s*,/;
// Where a tqdm bracket opens on its elapsed time; the count is found by walking back from it.
const TQDM_OPEN = /\[\s*\d+:\d\d/g;
const TQDM_RATE = /(?<v>\d+(?:\.\d+)?)\s*(?<u>[A-Za-z]+\/s|s\/[A-Za-z]+)/;
// tqdm with a custom bar_format and no brackets: `100%|██████████| 1849/1849 13:15`.
// The elapsed time must follow: a bar cut off mid-write is no progress.
const BARE_BAR = /\d{1,3}%\|[^|\n]*\|\s*(?<n>\d+)\/(?<m>\d+)\s+\d+:\d\d(?![\d:]*\s*[<\]])/g;

// Keras progbar `371/4899 [=====>....] - ETA: 1:23` and Keras 3 / rich `1664/1702 ━━━━━━━`;
// rich also prints the bar first: `━━━━━━━━ 1664/1702 0:07:51`.
const PROGBAR = /(?<![\w./])(?<n>\d+)\/(?<m>\d+)\s+(?:\[[=>.]*\]|[━─╸╺╾╼]+)/g;
// A Keras progbar without a target (a dataset of unknown length): `    346/Unknown - 6s 34ms/step`.
const PROGBAR_UNKNOWN = /(?<![\w./])(?<n>\d+)\/Unknown\s+-\s/g;
// Keras' one line per epoch (`verbose=2`): `1079/1079 - 21s - loss: 0.2431 - 21s/epoch - 19ms/step`,
// Keras 3's `1079/1079 - 21s - 19ms/step - loss: 0.2431`: the count, then the time it took.
const PROGBAR_TERSE =
  /^\s*(?<n>\d+)\/(?<m>\d+)\s+-\s+\d+(?:\.\d+)?(?:ms|us|µs|s|m|h)\b(?:\s+\d+(?:\.\d+)?(?:ms|us|µs|s)\/step)?\s+-\s/g;
const TERSE_HINT = /^\s*\d+\/\d+\s+-\s+\d/;
// A bar with its count inside the bracket, before elapsed<remaining: fastprogress (fastai)
// `71.39% [6930/9707 3:56:27<1:34:45 0.412]`, whose comment is the smoothed loss, and the text of
// Hugging Face's notebook bar `[ 22/290 02:50 < 38:04, 0.12 it/s, Epoch 0.36/5]`. Like a tqdm
// bar it may be cut after its times (the updates of a bar that never breaks its line pile up).
const BRACKET_BAR =
  /\[\s*(?<n>\d+)\s*\/\s*(?<m>\d+)\s+\d+:\d\d(?::\d\d)?\s*<\s*\d+:\d\d(?::\d\d)?(?<rest>[^\]\n]*)(?:\]|$)/y;
const BRACKET_BAR_EPOCH = /\bEpoch\s+(?<e>\d+(?:\.\d+)?)\s*\/\s*(?<t>\d+)/i;
const LONE_NUMBER = /^\s*(?<v>[-+]?(?:\d+(?:\.\d+)?(?:e[-+]?\d+)?|nan|inf))\s*$/i;
const RICH = /[━─╸╺╾╼]+\s*(?<n>\d+)\/(?<m>\d+)(?![\d/])/g;
/** Cheap tests that spare most lines the full patterns. */
const RICH_HINT = /[━─╸╺╾╼]/;
const PROGBAR_HINT = /\[[=>.]|[━─╸╺╾╼]/;

/** A Keras or rich bar with its count and total, in the order they are read. */
interface CountedBar {
  re: RegExp;
  /** A cheap test that spares most lines the pattern. */
  hint: RegExp;
  label: string;
  /** Its description (the text before it) is part of its key: a rich bar per task. */
  described: boolean;
  /** A count past its total is no such bar (`5/3 - 2s - …` is no Keras line). */
  withinTotal: boolean;
}

const COUNTED_BARS: readonly CountedBar[] = [
  {
    re: PROGBAR,
    hint: PROGBAR_HINT,
    label: "progress bar N/M [===>..]",
    described: false,
    withinTotal: false,
  },
  { re: RICH, hint: RICH_HINT, label: "rich bar ━━━ N/M", described: true, withinTotal: false },
  {
    re: PROGBAR_TERSE,
    hint: TERSE_HINT,
    label: "progress line N/M - 21s -",
    described: false,
    withinTotal: true,
  },
];

/** A bar's own reading; where it stands and what precedes it say the rest (see pushBar). */
type BarReading = Pick<Counter, "key" | "kind" | "label" | "value" | "total" | "stepTime">;

/**
 * Adds a bar found at `at` to the line's counters: the text `before` it (its description) tells
 * an evaluation or chore bar; a bar carries no epoch of its own.
 */
function pushBar(scan: LineScan, at: number, before: string, bar: BarReading): void {
  scan.reading.counters.push({
    key: bar.key,
    kind: bar.kind,
    label: bar.label,
    value: bar.value,
    total: bar.total,
    eval: scan.isEval(before),
    chore: scan.isChore(before),
    epoch: null,
    at,
    stepTime: bar.stepTime,
  });
}

/** Seconds per unit from a tqdm-style rate (`2.31it/s`, `1.5s/it`); null for a zero rate. */
function rateStepTime(rate: RegExpExecArray): number | null {
  const v = Number(rate.groups?.v);
  return rate.groups?.u?.startsWith("s/") ? v : v > 0 ? 1 / v : null;
}

/** The matches of `re` on the line that no earlier reading took, each claimed as it is yielded. */
function* unclaimedMatches(scan: LineScan, re: RegExp): Generator<RegExpExecArray> {
  for (const m of scan.line.matchAll(re)) {
    const at = m.index;
    if (scan.taken(at, at + m[0].length)) continue;
    scan.claim(at, at + m[0].length);
    yield m;
  }
}

function hasTqdmBracket(line: string): boolean {
  return line.includes("[") && (line.includes("/s") || line.includes("s/"));
}

/** tqdm bars on a line: each `[mm:ss` found first, then the bar matched anchored at its count. */
function* tqdmMatches(line: string): Generator<RegExpExecArray> {
  TQDM_OPEN.lastIndex = 0;
  for (let hit = TQDM_OPEN.exec(line); hit; hit = TQDM_OPEN.exec(line)) {
    let j = hit.index - 1;
    while (j >= 0 && line.charCodeAt(j) === 32) j -= 1;
    // `150it [` / `250000step [`: a unit after the count.
    while (j >= 0 && isLetter(line.charCodeAt(j))) j -= 1;
    // `450/1000 [` or `150it [`: the count, perhaps with its total (`4540/? [`: unknown).
    if (j >= 1 && line.charCodeAt(j) === 63 && line.charCodeAt(j - 1) === 47) j -= 1;
    else while (j >= 0 && isDigit(line.charCodeAt(j))) j -= 1;
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
    if (m.groups?.close === "" && !POSTFIX_BEGUN.test(m.groups?.inside ?? "")) continue;
    TQDM_OPEN.lastIndex = start + m[0].length;
    yield m;
  }
}

/**
 * tqdm bars, of any unit, with their rate as the step time: `450/1000 [01:02<01:10, 2.31it/s]`,
 * `150it [00:10, 14.2it/s]`. Read first: a bar's numbers are nobody else's.
 */
export function readTqdmBars(scan: LineScan): void {
  const { line } = scan;
  if (!hasTqdmBracket(line)) return;
  for (const m of tqdmMatches(line)) {
    const g = m.groups ?? {};
    const at = m.index ?? 0;
    // The bar's description: what precedes it, without its percentage and bar.
    const before = line.slice(0, at).replace(/\d{1,3}%\s*\|?[^|]*\|?\s*$/, "");
    const rate = TQDM_RATE.exec(g.inside ?? "");
    const total = g.m !== undefined ? Number(g.m) : null;
    const description = letters(before);
    pushBar(scan, at, before, {
      key: `bar|${description}|${total ?? g.unit ?? "it"}`,
      kind: "bar",
      label: `tqdm bar${description ? ` '${description}'` : ""}${total !== null ? ` N/${total}` : ` N${g.unit ?? "it"}`}`,
      value: Number(g.n),
      total,
      stepTime: rate ? rateStepTime(rate) : null,
    });
    scan.claim(at, at + m[0].length);
  }
}

/**
 * Bars counted inside their bracket (`[6930/9707 3:56:27<1:34:45 nan]`, `[ 22/290 02:50 < 38:04,
 * 0.12 it/s, Epoch 0.36/5]`): the whole bracket is the bar's, an epoch in it is the line's epoch,
 * and a comment that is a lone number is fastai's smoothed loss. Read with the tqdm bars.
 */
export function readBracketBars(scan: LineScan): void {
  const { line, reading } = scan;
  if (!line.includes("<")) return;
  // Each `[` is tried where a count follows it, the pattern anchored there: a tqdm bracket
  // (`[13:03<00:17`) fails on its first colon.
  for (let open = line.indexOf("["); open >= 0; open = line.indexOf("[", open + 1)) {
    let j = open + 1;
    while (line.charCodeAt(j) === 32) j += 1;
    if (!isDigit(line.charCodeAt(j))) continue;
    BRACKET_BAR.lastIndex = open;
    const m = BRACKET_BAR.exec(line);
    if (!m) continue;
    const at = open;
    if (scan.taken(at, at + m[0].length)) continue;
    scan.claim(at, at + m[0].length);
    // The description runs from the previous bar's end: updates glued on one line are one bar.
    const before = line.slice(line.lastIndexOf("]", at - 1) + 1, at);
    const description = letters(before);
    const rest = m.groups?.rest ?? "";
    const total = Number(m.groups?.m);
    const rate = TQDM_RATE.exec(rest);
    pushBar(scan, at, before, {
      key: `bar|${description}|${total}`,
      kind: "bar",
      label: `bar${description ? ` '${description}'` : ""} [N/${total} elapsed<remaining]`,
      value: Number(m.groups?.n),
      total,
      stepTime: rate ? rateStepTime(rate) : null,
    });
    const epoch = BRACKET_BAR_EPOCH.exec(rest);
    if (epoch) {
      const e = Number(epoch.groups?.e);
      scan.noteEpoch(e, Number(epoch.groups?.t), at + m[0].indexOf(epoch[0]), false);
    }
    // A comment cut with its bracket may be a cut number (`0.7` of `0.75`): only a closed one counts.
    const comment = m[0].endsWith("]") ? LONE_NUMBER.exec(rest) : null;
    if (comment) reading.loss = parseLogNumber(comment.groups?.v);
  }
}

/** tqdm with a custom bar_format and no brackets: `100%|██████████| 1849/1849 13:15`. */
export function readBareBars(scan: LineScan): void {
  const { line } = scan;
  if (!line.includes("%|")) return;
  for (const m of unclaimedMatches(scan, BARE_BAR)) {
    const at = m.index;
    const before = line.slice(0, at);
    const description = letters(before);
    const total = Number(m.groups?.m);
    pushBar(scan, at, before, {
      key: `bar|${description}|${total}`,
      kind: "bar",
      label: `bar${description ? ` '${description}'` : ""} N/${total}`,
      value: Number(m.groups?.n),
      total,
      stepTime: null,
    });
  }
}

/** Keras progbars (`371/4899 [=====>....]`) and rich bars (`━━━━ 1664/1702`, either side). */
export function readProgressBars(scan: LineScan): void {
  const { line } = scan;
  if (line.includes("/Unknown")) {
    for (const m of unclaimedMatches(scan, PROGBAR_UNKNOWN)) {
      const at = m.index;
      const before = line.slice(0, at);
      pushBar(scan, at, before, {
        key: "progbar",
        kind: "progbar",
        label: "progress bar N/Unknown",
        value: Number(m.groups?.n),
        total: null,
        stepTime: null,
      });
    }
  }
  for (const { re, hint, label, described, withinTotal } of COUNTED_BARS) {
    if (!hint.test(line)) continue;
    for (const m of unclaimedMatches(scan, re)) {
      if (withinTotal && Number(m.groups?.n) > Number(m.groups?.m)) continue;
      const at = m.index;
      const before = line.slice(0, at);
      pushBar(scan, at, before, {
        key: described ? `progbar|${letters(before)}` : "progbar",
        kind: "progbar",
        label,
        value: Number(m.groups?.n),
        total: Number(m.groups?.m),
        stepTime: null,
      });
    }
  }
}
