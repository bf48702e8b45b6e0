import type { LineScan } from "./line-reading.ts";

const LEADING_COLUMN = /^\s*(?<n>\d+)\/(?<m>\d+)\s/;
const HEADER =
  /^\s*(?<label>epoch|iter|iteration|step|batch)\s{2,}[A-Za-z_][\w()\-.%/]*(?:\s+[A-Za-z_][\w()\-.%/]*)+\s*$/i;

/**
 * The name of a table's first column when `line` (one without digits) is a table header:
 * `Epoch    GPU_mem   box_loss …` (YOLO) gives `epoch`; null for any other line.
 */
export function readTableHeader(line: string): string | null {
  const h = HEADER.exec(line);
  return h ? (h.groups?.label ?? "").toLowerCase() : null;
}

/**
 * A row's leading `N/M` under a table header (`  3/299   10.2G   0.0412 …`): the epoch when the
 * header names it, else a counter named after the column.
 */
export function readLeadingColumn(scan: LineScan, header: string): void {
  const col = LEADING_COLUMN.exec(scan.line);
  if (!col || scan.taken(0, col[0].length)) return;
  const value = Number(col.groups?.n);
  const total = Number(col.groups?.m);
  if (header === "epoch") {
    scan.noteEpoch(value, total, col.index, false);
    return;
  }
  scan.reading.counters.push({
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
