import type { StepPoint } from "../../model/monitoring.ts";
import { parseLogNumber } from "./log-number.ts";
import { ProgressReader } from "./progress-reader.ts";
import type { StepMatcher } from "./step-format.ts";
import { STEP_FORMATS } from "./step-formats.ts";
import { stripAnsi } from "./strip-ansi.ts";

/** Turns log lines into progress points for one run. */
export interface StepParser {
  /** The format in use: the preset's name, "regex", or "auto" (with the counter it took as the step). */
  readonly format: string;
  parseLine(line: string): StepPoint | null;
}

/** Options of {@link createStepParser}; mirrors the run's `steps` config. */
export interface StepParserOptions {
  /** "auto", a preset name (see {@link STEP_FORMAT_NAMES}) or "regex". */
  format: string;
  /** With format "regex": named groups `step` (required), `total`, `epoch`, `loss`, `stepTime`. */
  regex?: string;
}

/** Every value `format` accepts. */
export const STEP_FORMAT_NAMES: readonly string[] = [
  "auto",
  "regex",
  ...STEP_FORMATS.map((f) => f.name),
];

/** A `steps.format` or `steps.regex` that cannot be used; the message says how to fix it. */
export class StepFormatError extends Error {
  override readonly name = "StepFormatError";
}

const REGEX_GROUPS = ["step", "total", "epoch", "loss", "stepTime"] as const;

/** Builds a step parser; throws {@link StepFormatError} for an unknown format or bad regex. */
export function createStepParser(options: StepParserOptions): StepParser {
  const format = options.format.trim();
  if (format === "regex") return new RegexStepParser(compileUserRegex(options.regex));
  if (format === "auto") return new ProgressReader();
  const preset = STEP_FORMATS.find((f) => f.name === format);
  if (!preset) {
    throw new StepFormatError(
      `unknown steps.format '${options.format}'; use one of: ${STEP_FORMAT_NAMES.join(", ")}`,
    );
  }
  return new MatcherStepParser(preset.createMatcher());
}

function compileUserRegex(source: string | undefined): RegExp {
  if (source === undefined || source.trim() === "") {
    throw new StepFormatError(
      "steps.format is 'regex' but steps.regex is empty; give a regex with a named group (?<step>\\d+)",
    );
  }
  let regex: RegExp;
  try {
    regex = new RegExp(source);
  } catch (error) {
    throw new StepFormatError(
      `steps.regex is not a valid regular expression (${(error as Error).message}); fix its syntax`,
    );
  }
  if (!/\(\?<step>/.test(source)) {
    throw new StepFormatError(
      "steps.regex has no named group 'step'; capture the step number as (?<step>\\d+)",
    );
  }
  return regex;
}

/** Logs often prefix lines with ANSI colours; every parser sees the plain text. */
function clean(line: string): string {
  return stripAnsi(line);
}

class MatcherStepParser implements StepParser {
  constructor(private readonly matcher: StepMatcher) {}
  get format(): string {
    return this.matcher.name;
  }
  parseLine(line: string): StepPoint | null {
    return this.matcher.match(clean(line));
  }
}

class RegexStepParser implements StepParser {
  readonly format = "regex";
  constructor(private readonly regex: RegExp) {}
  parseLine(line: string): StepPoint | null {
    const groups = this.regex.exec(clean(line))?.groups;
    if (!groups) return null;
    const values = Object.fromEntries(
      REGEX_GROUPS.map((name) => [name, parseLogNumber(groups[name])]),
    ) as Record<(typeof REGEX_GROUPS)[number], number | null>;
    if (values.step === null || !Number.isFinite(values.step)) return null;
    return {
      step: values.step,
      total: values.total,
      epoch: values.epoch,
      loss: values.loss,
      stepTime: values.stepTime,
    };
  }
}
