import { isMap, isScalar, isSeq, type Node, parseDocument, stringify } from "yaml";
import { TrainopsError } from "../core/errors.ts";
import type { ConfigChange } from "./run-operations.ts";

/** A plain value a change may write. */
export type ScalarValue = number | boolean | string;

/** The training YAML cannot be edited as asked; the message says which key and why. */
export class ConfigEditError extends TrainopsError {
  override readonly name = "ConfigEditError";
  readonly code = "config_edit";
}

/** Splits `training.workers` into `["training", "workers"]`. */
export function keyPath(key: string): string[] {
  return key.split(".");
}

/** Reads dotted keys from YAML text; absent keys are `undefined`. */
export function readKeys(text: string, keys: readonly string[]): Record<string, unknown> {
  const doc = parseChecked(text);
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const value = doc.getIn(keyPath(key));
    out[key] = isScalar(value) ? value.value : value;
  }
  return out;
}

/**
 * Sets dotted keys in YAML text and returns the new text. Each value is spliced into the
 * original bytes at the scalar's own source range, so comments, key order, quoting and blank
 * lines elsewhere stay byte for byte; a missing key is added as a new line under its parent
 * block map at the parent's indentation. The result is re-parsed and must equal the old data
 * with exactly these keys changed, or nothing is returned.
 */
export function editYaml(
  text: string,
  set: Readonly<Record<string, ScalarValue>>,
): { text: string; changes: ConfigChange[] } {
  const original = parseChecked(text);
  const expected = original.toJS() as unknown;
  const changes: ConfigChange[] = [];
  let current = text;
  for (const [key, value] of Object.entries(set)) {
    const doc = parseChecked(current);
    const path = keyPath(key);
    const node = doc.getIn(path, true) as unknown;
    const before = isScalar(node) ? node.value : node;
    if (before !== undefined && !isScalar(node)) {
      throw new ConfigEditError(
        `${key} is a ${isMap(node) ? "map" : isSeq(node) ? "list" : "node"} in the training config; only plain values can be set`,
      );
    }
    if (before === value) continue;
    changes.push({ key, before: before ?? null, after: value });
    setPath(expected, path, value, key);
    current =
      isScalar(node) && node.range
        ? current.slice(0, node.range[0]) + formatScalar(value) + current.slice(node.range[1])
        : insertKey(current, doc, path, value, key);
  }
  const check = parseChecked(current).toJS() as unknown;
  if (JSON.stringify(check) !== JSON.stringify(expected)) {
    throw new ConfigEditError("the edited config would differ in other keys; nothing was written");
  }
  return { text: current, changes };
}

/** A value as a YAML plain or quoted scalar that parses back to itself. */
export function formatScalar(value: ScalarValue): string {
  if (typeof value === "string" && /^[A-Za-z_][A-Za-z0-9_./-]*$/.test(value)) {
    const back = parseDocument(value).toJS();
    if (back === value) return value;
  }
  return stringify(value).trimEnd();
}

type Doc = ReturnType<typeof parseDocument>;

function parseChecked(text: string): Doc {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    const line = first?.linePos?.[0]?.line;
    throw new ConfigEditError(
      `the training config is not valid YAML${line ? ` (line ${line})` : ""}: ${first?.message.split("\n")[0]}; fix it on the VM first`,
    );
  }
  return doc;
}

function insertKey(
  text: string,
  doc: Doc,
  path: string[],
  value: ScalarValue,
  key: string,
): string {
  for (let depth = path.length - 1; depth >= 0; depth--) {
    const parent = (depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true)) as unknown;
    if (parent === undefined || parent === null) continue;
    if (!isMap(parent) || parent.flow || parent.items.length === 0) {
      throw new ConfigEditError(
        `cannot add ${key}: ${path.slice(0, depth).join(".") || "the top level"} is not a block map with keys; add the key by hand once`,
      );
    }
    const first = parent.items[0]?.key as Node | undefined;
    const last = parent.items[parent.items.length - 1];
    const lastNode = (last?.value ?? last?.key) as Node | undefined;
    if (!first?.range || !lastNode?.range)
      throw new ConfigEditError(`cannot locate ${key}'s parent in the file`);
    const indent = first.range[0] - (text.lastIndexOf("\n", first.range[0] - 1) + 1);
    let pos = lastNode.range[1];
    if (pos > 0 && text[pos - 1] === "\n") pos -= 1;
    else {
      const nl = text.indexOf("\n", pos);
      pos = nl === -1 ? text.length : nl;
    }
    const lines = path.slice(depth).map((segment, i, rest) => {
      const pad = " ".repeat(indent + 2 * i);
      return i === rest.length - 1
        ? `${pad}${segment}: ${formatScalar(value)}`
        : `${pad}${segment}:`;
    });
    return `${text.slice(0, pos)}\n${lines.join("\n")}${text.slice(pos)}`;
  }
  throw new ConfigEditError(`cannot add ${key}: the training config has no top-level map`);
}

function setPath(target: unknown, path: string[], value: ScalarValue, key: string): void {
  let node = target as Record<string, unknown>;
  for (const segment of path.slice(0, -1)) {
    if (node[segment] === undefined || node[segment] === null) node[segment] = {};
    const next = node[segment];
    if (typeof next !== "object")
      throw new ConfigEditError(`cannot set ${key}: ${segment} is a plain value`);
    node = next as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

/**
 * Changed lines between two texts, `- ` before and `+ ` after, each with its line number, for
 * people to read before confirming.
 */
export function diffLines(before: string, after: string): string[] {
  const a = before.split("\n");
  const b = after.split("\n");
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  if (midA.length * midB.length > 1_000_000) {
    return [
      ...midA.map((l, i) => `L${start + i + 1} - ${l}`),
      ...midB.map((l, i) => `L${start + i + 1} + ${l}`),
    ];
  }
  // Longest common subsequence over the differing middle, so separate edits show separately.
  const rows = midA.length + 1;
  const cols = midB.length + 1;
  const lcs = new Uint32Array(rows * cols);
  for (let i = midA.length - 1; i >= 0; i--) {
    for (let j = midB.length - 1; j >= 0; j--) {
      lcs[i * cols + j] =
        midA[i] === midB[j]
          ? (lcs[(i + 1) * cols + j + 1] as number) + 1
          : Math.max(lcs[(i + 1) * cols + j] as number, lcs[i * cols + j + 1] as number);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < midA.length || j < midB.length) {
    if (i < midA.length && j < midB.length && midA[i] === midB[j]) {
      i++;
      j++;
    } else if (
      j < midB.length &&
      (i >= midA.length || (lcs[i * cols + j + 1] as number) >= (lcs[(i + 1) * cols + j] as number))
    ) {
      out.push(`L${start + j + 1} + ${midB[j]}`);
      j++;
    } else {
      out.push(`L${start + i + 1} - ${midA[i]}`);
      i++;
    }
  }
  // Show each removal before its replacement.
  return out.sort((x, y) => lineNo(x) - lineNo(y) || (x.includes(" - ") ? -1 : 1));
}

function lineNo(line: string): number {
  return Number(/^L(\d+)/.exec(line)?.[1] ?? 0);
}
