import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { LogSummary } from "../../monitors/parsers/log-summarizer.ts";
import { LogSummarizer } from "../../monitors/parsers/log-summarizer.ts";
import { STEP_FORMAT_NAMES, StepFormatError } from "../../monitors/parsers/step-parser.ts";
import type { RegisterCommand } from "./command.ts";

/**
 * `trainops parse FILE [--format F] [--regex R] [--json]`: runs the monitor's log parser and
 * error classifier over a local file, so a user can check their log format before deploying.
 */
export const registerParse: RegisterCommand = (program, setExitCode) => {
  program
    .command("parse")
    .description("Parse a local training log: last step, step time and classified errors")
    .argument("<file>", "training log to read")
    .option("--format <format>", `step format: ${STEP_FORMAT_NAMES.join(", ")}`, "auto")
    .option(
      "--regex <regex>",
      "with --format regex: named groups step, total, epoch, loss, stepTime",
    )
    .option("--json", "print JSON")
    .option(
      "--explain",
      "show every counter the reader found (label, example line, monotone, rate) and why it took the step it took",
    )
    .action(
      async (
        file: string,
        options: { format: string; regex?: string; json?: boolean; explain?: boolean },
      ) => {
        let summarizer: LogSummarizer;
        try {
          summarizer = new LogSummarizer({
            format: options.format,
            regex: options.regex,
            explain: options.explain === true,
          });
        } catch (error) {
          if (!(error instanceof StepFormatError)) throw error;
          process.stderr.write(
            `trainops parse: ${error.message.replace("steps.format", "--format").replace(/steps\.regex/g, "--regex")}\n`,
          );
          setExitCode(2);
          return;
        }
        try {
          const info = await stat(file);
          if (!info.isFile()) throw Object.assign(new Error("not a file"), { code: "ENOTFILE" });
          for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) {
            summarizer.push(chunk as Buffer);
          }
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          const reason =
            code === "ENOENT"
              ? "no such file"
              : code === "EACCES"
                ? "permission denied"
                : code === "ENOTFILE"
                  ? "not a regular file"
                  : (error as Error).message;
          process.stderr.write(`trainops parse: cannot read ${file}: ${reason}\n`);
          setExitCode(1);
          return;
        }
        const summary = summarizer.finish();
        let text = options.json
          ? `${JSON.stringify(summary, null, 2)}\n`
          : formatSummary(file, summary);
        if (options.explain && !options.json) text += formatExplanation(summary, options.format);
        process.stdout.write(text);
      },
    );
};

function formatSummary(file: string, s: LogSummary): string {
  const out: string[] = [`${file}: ${s.lines} lines, step format ${s.format}`];
  if (s.lastStep === null) {
    out.push("progress: no step lines recognised (try --format, or --format regex --regex '...')");
  } else {
    const total = s.totalSteps !== null ? `/${s.totalSteps}` : "";
    const epoch = s.epoch !== null ? `, epoch ${s.epoch}` : "";
    const loss = s.loss !== null ? `, loss ${s.loss}` : "";
    out.push(`progress: step ${s.lastStep}${total}${epoch}${loss}`);
  }
  if (s.stepTimeSeconds !== null) {
    const perHour = Math.round(3600 / s.stepTimeSeconds);
    out.push(`step time: ${s.stepTimeSeconds.toPrecision(3)} s (${perHour} steps/h)`);
  } else {
    out.push("step time: unknown (the log prints neither a rate nor timestamps)");
  }
  if (s.errors.length === 0) {
    out.push("errors: none");
  } else {
    const omitted = s.errorsOmitted > 0 ? ` (${s.errorsOmitted} more in the middle not shown)` : "";
    out.push(`errors: ${s.errors.length + s.errorsOmitted}${omitted}`);
    for (const e of s.errors) {
      const line = e.line.length > 160 ? `${e.line.slice(0, 160)}…` : e.line;
      out.push(`  line ${e.lineNumber ?? "?"}: ${e.kind}  ${line}`);
    }
  }
  return `${out.join("\n")}\n`;
}

/** `--explain`: the counters the general reader weighed, as a table, then each one's example. */
function formatExplanation(s: LogSummary, format: string): string {
  const counters = s.counters;
  if (counters === undefined) {
    return `\nexplain: --format ${format} reads one fixed format; use --format auto to see the general reader's choice\n`;
  }
  if (counters.length === 0)
    return "\nexplain: no counter (step, iter, epoch, batch, progress bar) on any line\n";
  const rows = counters.map((c, i) => [
    String(i + 1),
    c.label,
    String(c.lines),
    c.decreases === 0
      ? "yes"
      : c.resetsOnEpoch > 0
        ? `resets each epoch (${c.resetsOnEpoch})`
        : `no (${c.decreases} drops)`,
    c.medianIncrease === null ? "–" : `+${c.medianIncrease}/line`,
    c.lastTotal === null ? String(c.lastValue) : `${c.lastValue}/${c.lastTotal}`,
    `${c.chosen ? "STEP: " : ""}${c.why}`,
  ]);
  const head = ["#", "counter", "lines", "monotone", "rate", "last", "chosen / why not"];
  const widths = head.map((h, col) =>
    Math.max(h.length, ...rows.map((r) => (r[col] as string).length)),
  );
  const pad = (cells: string[]) =>
    cells
      .map((cell, col) => cell.padEnd(widths[col] as number))
      .join("  ")
      .trimEnd();
  const out = [
    "",
    "counters the reader found (the step first):",
    pad(head),
    ...rows.map(pad),
    "",
    "examples:",
  ];
  for (const [i, c] of counters.entries())
    out.push(`  ${i + 1}. line ${c.lineNumber}: ${c.example}`);
  return `${out.join("\n")}\n`;
}
