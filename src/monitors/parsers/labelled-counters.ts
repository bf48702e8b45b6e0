import { isLetter, isWordChar } from "./char-class.ts";
import type { Counter, CounterKind, LineScan } from "./line-reading.ts";
import { LOG_COUNT as NUM, parseLogNumber } from "./log-number.ts";

const LABELS = String.raw`global[ _]?steps?|train(?:ing)?[ _]steps?|num_updates|iterations?|iters?|steps?|batch(?:es)?|epochs?|updates?|it(?=\s*[:=])|ep(?=\s*[:=]?\s*\d)`;
// A plural label counts something else when a word like these comes first ("Total steps = 1752",
// "Num Epochs = 3", "number of skipped iterations: 0", "warmup_steps").
const COUNT_WORDS =
  /(?:total|num|number|max|min|warmup|accumulation|skipped|nan|optimization|eval|save|log|logging|every|per|of|train|training|the)\W*$/i;

// A label, an optional mode `(train)`/`(val)`, separators (an ellipsis too: diffusers' Flax
// `Epoch... (39/116 | Loss: 0.18)`), `N`, `N/M`, `[N/M]`, `(N/M`, `N of M`, and an
// inner `[i/n]` or `: i / n` that the label's value is the outer index of.
// Where a label may start: a plain alternation V8 scans fast. The full pattern then runs anchored
// (sticky) at each hit instead of being tried at every position of every line.
const LABEL_START =
  /global[ _]?step|train(?:ing)?[ _]step|num_updates|iteration|iter|step|batch|epoch|ep|update|it/gi;
/** The labelled pattern; `loose` also takes an ellipsis after the label and `(` before `N/M`. */
function labelledPattern(loose: boolean): RegExp {
  const gap = loose ? String.raw`(?:\.{2,3}|…)?` : "";
  const open = loose ? String.raw`(?:\[\s*|\(\s*(?=[\d,]+\s*\/))?` : String.raw`(?:\[\s*)?`;
  return new RegExp(
    String.raw`(?<label>${LABELS})(?![A-Za-z0-9_])(?:\s*\((?<mode>[A-Za-z]+)\))?['"]?\]?${gap}\s*[:=#]?\s*['"]?${open}(?<n>${NUM}(?:\.\d+)?)(?![\d.]*[A-Za-z%])(?:\s*(?:\/|\bof\b)\s*(?<m>${NUM})(?![\d.]*[A-Za-z%]))?(?:\s*\])?(?:(?:\s*\[\s*|:\s+)(?<i>${NUM})\s*\/\s*(?<k>${NUM})(?:[^\][\n]{0,24}\])?)?`,
    "iy",
  );
}
const LABELLED = labelledPattern(false);
// Tried only where the strict pattern failed and an ellipsis or `(` follows the label: most
// lines never pay for it.
const LABELLED_LOOSE = labelledPattern(true);

/** Whether an ellipsis or a parenthesis follows the label at `at` closely. */
function mayBeLoose(line: string, at: number): boolean {
  const near = line.slice(at, at + 18);
  return near.includes("(") || near.includes("..") || near.includes("…");
}

// A number with its label glued after it: ESPnet2 `5epoch:train:5251-5625batch`, `91300 iter`.
const SUFFIXED =
  /(?<![\w./-])(?:(?<a>\d+)-)?(?<n>\d+) ?(?<label>epoch|iteration|iter|step|batch)(?![A-Za-z])(?:\s*\/\s*(?<m>\d+))?/gi;
/** What follows a namespaced key's label: its own `:` or `=`. */
const KEYED = /^['"]?\s*[:=]/;
/** A quantity counted per step, batch or iteration: what makes `<unit>/step` a rate, not a key. */
const UNIT_BEFORE =
  /(?:^|[^A-Za-z])(?:ms|s|sec|secs|seconds|words|tokens|toks|tok|samples|images|imgs|img|sents|sentences|examples|seqs|sequences|frames)\/$/i;
// After an epoch, a bare `, i/n`, `| i/n` or `  i / n` is the position in it too (OpenNMT's
// `Epoch  1, 13400/37527;`, fairseq's `| epoch 010  8000 / 8223 loss=`, PyTorch's language-model
// example `| epoch  27 |   400/ 1106 batches |`); not a date (`12/08/2021`).
const EPOCH_POSITION = new RegExp(
  String.raw`(?:\s*[,|]\s*|\s+)(?<i>${NUM})\s*\/\s*(?<k>${NUM})(?![\d.]*[A-Za-z%/])`,
  "y",
);
/** Whether a bare `i/n` may start at `at`: a space, comma or pipe first, a slash soon after. */
function mayFollowEpoch(line: string, at: number): boolean {
  const c = line.charCodeAt(at);
  if (c !== 32 && c !== 9 && c !== 44 && c !== 124) return false;
  const slash = line.indexOf("/", at);
  return slash > 0 && slash - at <= 24;
}
/** `per ` (or `per_`) right before `at`: `Steps per epoch`, `time_per_iteration`. */
function perBefore(line: string, at: number): boolean {
  if (at < 4) return false;
  const sep = line.charCodeAt(at - 1);
  if (sep !== 32 && sep !== 95) return false;
  // Lower-cased by setting bit 5: `PER`, `Per` and `per` alike.
  if ((line.charCodeAt(at - 2) | 32) !== 114) return false; // r
  if ((line.charCodeAt(at - 3) | 32) !== 101) return false; // e
  if ((line.charCodeAt(at - 4) | 32) !== 112) return false; // p
  return at < 5 || !isLetter(line.charCodeAt(at - 5));
}
/** A cheap test that spares most lines the suffixed pattern. */
const SUFFIX_HINT = /\d ?(?:epoch|iter|step|batch)/i;

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
    // A command-line option (`python train.py --epochs 400`, `-iters 5000`) is a setting echoed
    // by the shell or a launcher, not a counter.
    if (before === 45 && (at < 2 || !isWordChar(line.charCodeAt(at - 2)))) continue;
    LABELLED.lastIndex = at;
    let m = LABELLED.exec(line);
    if (!m && mayBeLoose(line, at)) {
      LABELLED_LOOSE.lastIndex = at;
      m = LABELLED_LOOSE.exec(line);
    }
    if (!m) continue;
    // After a slash a label is a unit (`words/batch    906`, `tokens/step: 4096`) unless it is a
    // namespaced key with its own `:` or `=` (`time/batch: 16`, `train/global_step=1200`).
    if (before === 47) {
      const unit = UNIT_BEFORE.test(line.slice(Math.max(0, at - 12), at));
      if (unit || !KEYED.test(line.slice(at + (m.groups?.label?.length ?? 0)))) continue;
    }
    LABEL_START.lastIndex = at + m[0].length;
    yield m;
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
  // `Ep 1 | iter 120` (litgpt), `ep: 3`: the short form of an epoch.
  if (l === "epoch" || l === "ep") return "epoch";
  if (l === "batch") return "batch";
  if (l === "iter" || l === "iteration" || l === "it") return "iter";
  return "step";
}

/**
 * Counters a label names: `iter 240`, `Step [415/2500]`, `global_step=1200`, `Epoch 3/10`,
 * `Iter(val) [e][i/n]`. An epoch label sets the line's epoch (its `[i/n]` is a batch counter
 * nested in it); every other label is a counter.
 */
export function readLabelledCounters(scan: LineScan): void {
  const { line, reading } = scan;
  for (const m of labelledMatches(line)) {
    const g = m.groups ?? {};
    const at = m.index ?? 0;
    if (scan.taken(at, at + m[0].length)) continue;
    const label = g.label ?? "";
    // `Steps per epoch = 188`, `samples per step: 64`: the unit of a rate, not a counter.
    if (perBefore(line, at)) continue;
    if (/s$/i.test(label) && !/^(?:it|num_updates)$/i.test(label)) {
      if (COUNT_WORDS.test(line.slice(Math.max(0, at - 24), at))) continue;
    }
    const kind = kindOf(label);
    const value = parseLogNumber(g.n);
    if (value === null) continue;
    const total = parseLogNumber(g.m);
    const evalMode = g.mode !== undefined && scan.isEval(g.mode);
    let end = at + m[0].length;
    let inner = g.i ?? null;
    let innerTotal = g.k;
    if (kind === "epoch" && inner === null && mayFollowEpoch(line, end)) {
      EPOCH_POSITION.lastIndex = end;
      const bare = EPOCH_POSITION.exec(line);
      if (bare) {
        inner = bare.groups?.i ?? null;
        innerTotal = bare.groups?.k;
        end += bare[0].length;
      }
    }
    // Eval words before the counter, or right after it (`Epoch 11 Val - Loss`), not later on.
    const counterEval =
      evalMode ||
      scan.isEval(line.slice(Math.max(0, at - 40), at)) ||
      scan.isEval(line.slice(end, end + 8));
    scan.claim(at, end);
    const shown = label.replace(/\s+/g, " ");
    if (kind === "epoch") {
      scan.noteEpoch(value, total, at, counterEval);
      if (inner !== null && Number.isInteger(value)) {
        reading.counters.push(innerCounter(shown, inner, innerTotal, value, counterEval, at));
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
    if (inner !== null) {
      // `Iter [e][i/n]` is rare; the inner pair is then the in-epoch position.
      reading.counters.push(innerCounter(shown, inner, g.k, value, counterEval, at));
    }
  }
}

/** Counters with the label glued after the number: `5epoch:train:5251-5625batch`, `91300 iter`. */
export function readSuffixedCounters(scan: LineScan): void {
  const { line, reading } = scan;
  if (!SUFFIX_HINT.test(line)) return;
  for (const m of line.matchAll(SUFFIXED)) {
    const g = m.groups ?? {};
    const at = m.index ?? 0;
    if (scan.taken(at, at + m[0].length)) continue;
    scan.claim(at, at + m[0].length);
    const kind = kindOf(g.label ?? "");
    const value = Number(g.n);
    const total = g.m !== undefined ? Number(g.m) : null;
    const counterEval = scan.isEval(line.slice(Math.max(0, at - 40), at));
    if (kind === "epoch") {
      scan.noteEpoch(value, total, at, counterEval);
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
