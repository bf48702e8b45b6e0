import type { StepPoint } from "../../src/model/monitoring.ts";
import { ErrorClassifier } from "../../src/monitors/parsers/error-classifier.ts";
import { createStepParser } from "../../src/monitors/parsers/step-parser.ts";

/**
 * Log lines read as `trainops parse` reads a log, for the tests that hold the readers to whole
 * families of real-log wordings: the progress the lines end on, and the errors they raise.
 */

/** The last progress point of `lines`, read as `trainops parse` reads a log. */
export function last(lines: string[]): StepPoint | null {
  const parser = createStepParser({ format: "auto" });
  let found: StepPoint | null = null;
  for (const line of lines) found = parser.parseLine(line) ?? found;
  return found;
}

/** Step, total, epoch and loss of the last point, or null. */
export function progress(
  lines: string[],
): Pick<StepPoint, "step" | "total" | "epoch" | "loss"> | null {
  const p = last(lines);
  return p === null ? null : { step: p.step, total: p.total, epoch: p.epoch, loss: p.loss };
}

/** The distinct error kinds the classifier reports for `lines`, flush included. */
export function errorKinds(lines: string[]): string[] {
  const classifier = new ErrorClassifier();
  const events = lines.flatMap((line, i) => classifier.push(line, i + 1));
  return [...new Set([...events, ...classifier.flush()].map((e) => e.kind))].sort();
}
