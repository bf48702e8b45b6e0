import type { MessageTable, ProgressBar } from "../../message/message.ts";

const BAR_WIDTH = 20;

/**
 * A progress bar as monospace text: `Epoch 1` then `███░░░… 549/4000 (13.7%)`. Inline code keeps
 * the blocks aligned on every client, including mobile.
 */
export function progressText(bar: ProgressBar): string {
  const ratio = bar.max > 0 ? Math.min(1, Math.max(0, bar.value / bar.max)) : 0;
  const filled = Math.round(ratio * BAR_WIDTH);
  const blocks = "█".repeat(filled) + "░".repeat(BAR_WIDTH - filled);
  const caption = bar.caption ?? `${(ratio * 100).toFixed(1)}%`;
  return `**${bar.label}**\n\`${blocks}\` ${caption}`;
}

/** Discord ends a code block at the first ``` inside it; a zero-width space defuses them. */
export function escapeFences(text: string): string {
  return text.replaceAll("```", "`\u200b``");
}

/** Wraps text as a code block. */
export function codeBlock(text: string): string {
  return `\`\`\`\n${escapeFences(text)}\n\`\`\``;
}

/** A table as aligned monospace columns with a rule under the header. */
export function tableText(table: MessageTable): string {
  const widths = table.columns.map((column, i) =>
    Math.max(column.length, ...table.rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: string[]): string =>
    widths
      .map((width, i) => (cells[i] ?? "").padEnd(width))
      .join("  ")
      .trimEnd();
  return [
    line(table.columns),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...table.rows.map(line),
  ].join("\n");
}

/**
 * Fits preformatted text into a code block of at most `max` characters. The tail is kept (the
 * newest log lines matter most) and the first line says how many lines were cut.
 */
export function fitCodeBlock(text: string, max: number): string | undefined {
  const whole = codeBlock(text);
  if (whole.length <= max) return whole;
  const lines = escapeFences(text).split("\n");
  // Fence, newlines and a generous marker ("… 12345 earlier lines cut").
  const budget = max - 8 - 32;
  let used = 0;
  let kept = 0;
  while (kept < lines.length) {
    const next = lines[lines.length - 1 - kept]!.length + 1;
    if (used + next > budget) break;
    used += next;
    kept += 1;
  }
  const cut = lines.length - kept;
  const marker = `… ${cut} earlier line${cut === 1 ? "" : "s"} cut`;
  const tail = lines.slice(lines.length - kept);
  if (kept === 0) {
    // One enormous last line: keep its end.
    const last = lines[lines.length - 1] ?? "";
    if (budget < 1) return undefined;
    tail.push(last.slice(Math.max(0, last.length - budget)));
  }
  const block = `\`\`\`\n${[marker, ...tail].join("\n")}\n\`\`\``;
  return block.length <= max ? block : undefined;
}

/**
 * Fits a table into at most `max` characters as a code block, keeping the header and the first
 * rows and saying how many rows were left out.
 */
export function fitTable(table: MessageTable, max: number): string | undefined {
  for (let rows = table.rows.length; rows >= 0; rows -= 1) {
    const left = table.rows.length - rows;
    const text = tableText({ columns: table.columns, rows: table.rows.slice(0, rows) });
    const block = codeBlock(
      left > 0 ? `${text}\n… ${left} more row${left === 1 ? "" : "s"}` : text,
    );
    if (block.length <= max) return block;
  }
  return undefined;
}
