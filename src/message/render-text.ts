import type { Message, ProgressBar, Severity } from "./message.ts";

/** Options of the plain-text rendering (console, logs). */
export interface RenderTextOptions {
  /** Paths where the message's images were saved, by image name; shown instead of the bytes. */
  imagePaths?: Record<string, string>;
  /** Width of progress bars in characters. */
  barWidth?: number;
}

const SEVERITY_MARK: Record<Severity, string> = {
  info: "ℹ",
  success: "✅",
  warning: "⚠️",
  critical: "🔴",
};

/** A text progress bar: `█████░░░░░`. */
export function textBar(value: number, max: number, width = 20): string {
  const share = max > 0 ? Math.min(1, Math.max(0, value / max)) : 0;
  const full = Math.round(share * width);
  return `${"█".repeat(full)}${"░".repeat(width - full)}`;
}

/**
 * Renders a neutral message as plain text for a terminal: title, lines, progress bars, fields,
 * an aligned table, the code block, image paths, and how to press the buttons.
 */
export function renderText(message: Message, options: RenderTextOptions = {}): string {
  const out: string[] = [
    `${SEVERITY_MARK[message.severity]} ${message.title}${message.ephemeral ? " (only you)" : ""}`,
  ];
  if (message.mentions && (message.mentions.users.length || message.mentions.roles.length)) {
    out.push(
      `  to: ${[...message.mentions.users.map((u) => `@${u}`), ...message.mentions.roles.map((r) => `@&${r}`)].join(" ")}`,
    );
  }
  for (const line of message.lines ?? []) out.push(indent(plain(line)));
  if (message.progress?.length)
    out.push(...progressLines(message.progress, options.barWidth ?? 20));
  for (const field of message.fields ?? []) {
    const [first, ...rest] = plain(field.value).split("\n");
    out.push(`  ${field.name}: ${first ?? ""}`);
    for (const more of rest) out.push(`    ${more}`);
  }
  if (message.table) out.push(...tableLines(message.table.columns, message.table.rows));
  // A terminal shows no Markdown: the code block is set off by a gutter, not by fences.
  if (message.code !== undefined)
    for (const line of message.code.split("\n")) out.push(`  │ ${line}`);
  for (const image of message.images ?? []) {
    const path = options.imagePaths?.[image.name];
    out.push(`  [chart] ${path ?? image.name} (${image.alt})`);
  }
  if (message.buttons?.length) {
    if (message.buttons.every((b) => /^(confirm|cancel):/.test(b.id))) {
      const commands = message.buttons.map((b) => `'${b.id.replace(":", " ")}'`);
      out.push(`  Type ${commands.join(" or ")}.`);
    } else {
      // Numbered choices: the console presses the newest message's buttons by number.
      const choices = message.buttons.map((b, i) => `[${i + 1}] ${b.label}`);
      out.push(`  Choose: ${choices.join("  ")} (type the number)`);
    }
  }
  if (message.footer) out.push(`  — ${message.footer}`);
  return out.join("\n");
}

/** Inline Markdown code (`/train status`) as the bare words a terminal can show. */
function plain(text: string): string {
  return text.replace(/`([^`\n]+)`/g, "$1");
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");
}

function progressLines(bars: ProgressBar[], width: number): string[] {
  const labelWidth = Math.max(...bars.map((b) => b.label.length));
  return bars.map(
    (b) =>
      `  ${b.label.padEnd(labelWidth)} ${textBar(b.value, b.max, width)} ${b.caption ?? `${b.value}/${b.max}`}`,
  );
}

function tableLines(columns: string[], rows: string[][]): string[] {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    `  ${cells
      .map((c, i) => (c ?? "").padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd()}`;
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
}
