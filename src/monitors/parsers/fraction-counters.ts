import { isDigit } from "./char-class.ts";
import { type LineScan, letters } from "./line-reading.ts";

// An unlabelled `[i/n]`, perhaps behind its epoch: timm `Train: 3 [ 100/1251 (  8%)]`, or an
// epoch with its own total and percentage in the same style (`Train:  1/3 ( 33%) [ 149/323 ( 46%)]`).
const BRACKET =
  /(?:(?<![\w./])(?<e>\d+)(?:\s*\/\s*\d+(?:\s*\(\s*\d+(?:\.\d+)?%\))?)?\s+)?\[\s*(?<i>\d+)\s*\/\s*(?<k>\d+)[^\][\n]{0,24}\]/g;

/**
 * Unlabelled positions in brackets, `[i/n]` or `e [i/n]` (timm's `Train: 3 [ 100/1251 (8%)]`),
 * named after the word before them. Read after the labelled counters and bars, which take
 * their own brackets first.
 */
export function readBracketFractions(scan: LineScan): void {
  const { line, reading } = scan;
  if (!(line.includes("[") && line.includes("/"))) return;
  for (const m of line.matchAll(BRACKET)) {
    const at = m.index ?? 0;
    if (scan.taken(at, at + m[0].length)) continue;
    scan.claim(at, at + m[0].length);
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
      eval: scan.isEval(before),
      chore: false,
      epoch: outer,
      at,
      stepTime: null,
    });
  }
}

// A bare `i/n` that ends right where an epoch label starts: char-rnn's `290/446 (epoch 0)`.
const BEFORE_EPOCH = /(?<![\w./:-])(?<i>\d+)\s*\/\s*(?<k>\d+)$/;
/** Space, `(`, `,`, `;` and `|`: what may stand between the fraction and its epoch label. */
const SEPARATORS = new Set([32, 9, 40, 44, 59, 124]);

/**
 * An unlabelled `i/n` printed just before the line's epoch label (`290/446 (epoch 0)`): the
 * position that epoch label qualifies. Read after the labelled counters, which note the epoch.
 */
export function readFractionBeforeEpoch(scan: LineScan): void {
  const { line, reading } = scan;
  if (reading.epoch === null || reading.epochAt <= 0) return;
  // Most epochs follow a word, not a number: look back past `(`, `,`, `;`, `|` and spaces first.
  let j = reading.epochAt - 1;
  while (j >= 0 && SEPARATORS.has(line.charCodeAt(j))) j -= 1;
  if (j < 0 || !isDigit(line.charCodeAt(j)) || scan.taken(j, j + 1)) return;
  const m = BEFORE_EPOCH.exec(line.slice(0, j + 1));
  if (!m) return;
  const at = m.index;
  if (scan.taken(at, at + m[0].length)) return;
  const i = Number(m.groups?.i);
  const k = Number(m.groups?.k);
  if (k === 0 || i > k) return;
  scan.claim(at, at + m[0].length);
  reading.counters.push({
    key: "fraction|before-epoch",
    kind: "fraction",
    label: "i/n (epoch E)",
    value: i,
    total: k,
    eval: reading.epochEval,
    chore: false,
    epoch: null,
    at,
    stepTime: null,
  });
}
