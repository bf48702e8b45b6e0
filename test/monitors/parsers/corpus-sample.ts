import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ClassifiedEvent, StepPoint } from "../../../src/model/monitoring.ts";
import { ErrorClassifier } from "../../../src/monitors/parsers/error-classifier.ts";
import { LineSplitter } from "../../../src/monitors/parsers/line-splitter.ts";
import { createStepParser } from "../../../src/monitors/parsers/step-parser.ts";

const MARKER = "# === verbatim sample follows (everything below this line) ===\n";
const DIR = fileURLToPath(new URL("../../fixtures/corpus/", import.meta.url));

/** The verbatim body of a corpus sample (everything after its header), as bytes. */
export function sampleBytes(name: string): Buffer {
  const raw = readFileSync(`${DIR}${name}`);
  const at = raw.indexOf(MARKER);
  if (at < 0) throw new Error(`${name} has no header marker`);
  return raw.subarray(at + Buffer.byteLength(MARKER));
}

/** The body split into lines the way the monitor splits them (a last unfinished line included). */
export function sampleLines(name: string): string[] {
  const splitter = new LineSplitter();
  const lines = splitter.push(sampleBytes(name));
  if (splitter.peek() !== "") lines.push(splitter.peek());
  return lines;
}

/** Every event the classifier reports for a sample, flush included. */
export function classifySample(name: string): ClassifiedEvent[] {
  const classifier = new ErrorClassifier();
  const events = sampleLines(name).flatMap((line, i) => classifier.push(line, i + 1));
  return [...events, ...classifier.flush()];
}

/** The last progress point and the detected format of a sample. */
export function parseSample(
  name: string,
  format = "auto",
): { last: StepPoint | null; format: string; points: StepPoint[] } {
  const parser = createStepParser({ format });
  const points = sampleLines(name)
    .map((line) => parser.parseLine(line))
    .filter((p): p is StepPoint => p !== null);
  return { last: points[points.length - 1] ?? null, format: parser.format, points };
}

/** Every sample file in the corpus, by name. */
export function corpusNames(): string[] {
  return readdirSync(DIR)
    .filter((name) => name.endsWith(".txt"))
    .sort();
}

/** What a sample's header says a parse must give (`# expect-progress:` and `# expect-errors:`). */
export interface SampleExpectation {
  /**
   * Null when the log shows no progress. `loss` is checked only where the header states it
   * (`loss=0.75`, `loss=nan`, `loss=inf`, `loss=none`); older samples leave it out.
   */
  progress: {
    step: number | null;
    total: number | null;
    epoch: number | null;
    loss?: number | null;
  } | null;
  /**
   * Seconds per training step the log prints with its last progress point (`# expect-speed:
   * step-time=0.45s`, `=450ms`, `=757us`, `=2.52it/s` for a rate, `=none` where the log prints no
   * step time: a samples/s or tokens/s alone is no step time). Undefined where not stated.
   */
  stepTime?: number | null;
  /** The distinct error kinds, sorted. */
  errors: string[];
  /**
   * Which gathering the sample came in (`# corpus-batch: N`, 1 when absent). Batch 2 was read
   * by the parser only after its rules were written: its score is the figure for unseen logs.
   */
  batch: number;
  /**
   * Fields the reader is known to read wrong (`# known-miss: total — why`; `step-time` for the
   * step time): the score counts them as misses, and the corpus test holds them to it, so a fix is noticed and the header updated.
   */
  misses: string[];
}

/** The machine-readable expectation in a sample's header, or null when it has none. */
export function sampleExpectation(name: string): SampleExpectation | null {
  const raw = readFileSync(`${DIR}${name}`, "utf8");
  const header = raw.slice(0, raw.indexOf(MARKER));
  const progress = /^# expect-progress: (.+)$/m.exec(header)?.[1]?.trim();
  const errors = /^# expect-errors: (.+)$/m.exec(header)?.[1]?.trim();
  if (progress === undefined || errors === undefined) return null;
  const field = (key: string): number | null => {
    const value = new RegExp(`\\b${key}=(\\S+)`).exec(progress)?.[1];
    if (value === undefined) throw new Error(`${name}: expect-progress has no ${key}=`);
    return value === "none" ? null : Number(value);
  };
  const loss = /\bloss=(\S+)/.exec(progress)?.[1];
  const speed = /^# expect-speed: step-time=(\S+)$/m.exec(header)?.[1];
  return {
    progress:
      progress === "none"
        ? null
        : {
            step: field("step"),
            total: field("total"),
            epoch: field("epoch"),
            ...(loss !== undefined ? { loss: lossValue(loss) } : {}),
          },
    ...(speed !== undefined ? { stepTime: stepTimeValue(name, speed) } : {}),
    errors: errors === "none" ? [] : [...new Set(errors.split(",").map((k) => k.trim()))].sort(),
    batch: Number(/^# corpus-batch: (\d+)/m.exec(header)?.[1] ?? 1),
    misses: [...header.matchAll(/^# known-miss: ([\w-]+)/gm)].map((m) => m[1] as string),
  };
}

/** A header's loss: a number, `nan`, `inf`/`-inf`, or `none` (no loss printed). */
function lossValue(text: string): number | null {
  if (text === "none") return null;
  if (text === "inf") return Number.POSITIVE_INFINITY;
  if (text === "-inf") return Number.NEGATIVE_INFINITY;
  return Number(text);
}

/** A header's step time in seconds: `0.45s`, `450ms`, `757us`, a rate `2.52it/s`, or `none`. */
function stepTimeValue(name: string, text: string): number | null {
  if (text === "none") return null;
  const m = /^(\d+(?:\.\d+)?)(s|ms|us|it\/s)$/.exec(text);
  if (!m) throw new Error(`${name}: expect-speed step-time=${text} is not a time or rate`);
  const value = Number(m[1]);
  switch (m[2]) {
    case "ms":
      return value / 1000;
    case "us":
      return value / 1e6;
    case "it/s":
      return 1 / value;
    default:
      return value;
  }
}

/** Whether a step time as read matches the header's, up to floating-point rounding (`1/2.52` against `1/2.52`). */
export function sameStepTime(got: number | null, want: number | null): boolean {
  if (got === null || want === null) return got === want;
  return Math.abs(got - want) <= 1e-9 * Math.max(Math.abs(want), 1e-9);
}
