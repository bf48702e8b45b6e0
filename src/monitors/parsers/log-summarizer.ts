import type { ClassifiedEvent, StepPoint } from "../../model/monitoring.ts";
import type { CounterReport } from "./counter-ledger.ts";
import { ErrorClassifier } from "./error-classifier.ts";
import { LineSplitter } from "./line-splitter.ts";
import { parseLineTimestamp } from "./log-timestamp.ts";
import { estimateProgress, type ProgressPoint } from "./progress-estimator.ts";
import { ProgressReader } from "./progress-reader.ts";
import { createStepParser, type StepParser } from "./step-parser.ts";

/** What `trainops parse` reports about a log. Field names are a contract (`--json`). */
export interface LogSummary {
  lastStep: number | null;
  totalSteps: number | null;
  epoch: number | null;
  stepTimeSeconds: number | null;
  errors: {
    kind: string;
    line: string;
    lineNumber: number | null;
    detail?: Record<string, string | number>;
  }[];
  /** The step format in use (the detected preset under `auto`). */
  format: string;
  loss: number | null;
  lines: number;
  /** Errors left out of `errors` (it keeps the first and the last {@link KEPT_ERRORS}). */
  errorsOmitted: number;
  /**
   * With `explain`: every counter the general reader saw, the chosen step first, with why it
   * was or was not taken. Absent otherwise (and under a named preset or a regex).
   */
  counters?: CounterReport[];
}

/** Errors kept from each end of a log; a NaN on every logged step must not fill the memory. */
export const KEPT_ERRORS = 500;

/** Timestamped points kept for the step-time estimate; older ones add nothing. */
const KEPT_POINTS = 200;

/**
 * Runs the line splitter, step parser and error classifier over a whole log fed in chunks,
 * keeping only bounded state, so a gigabyte log streams through in constant memory.
 */
export class LogSummarizer {
  private readonly splitter = new LineSplitter();
  private readonly parser: StepParser;
  private readonly classifier = new ErrorClassifier();
  private readonly firstEvents: ClassifiedEvent[] = [];
  private lastEvents: ClassifiedEvent[] = [];
  private omitted = 0;
  private readonly timed: ProgressPoint[] = [];
  private last: StepPoint | null = null;
  private lineCount = 0;

  private readonly explain: boolean;

  /** Throws StepFormatError for an unknown format or a bad regex. */
  constructor(options: { format?: string; regex?: string; explain?: boolean } = {}) {
    this.parser = createStepParser({ format: options.format ?? "auto", regex: options.regex });
    this.explain = options.explain ?? false;
  }

  push(chunk: Buffer): void {
    for (const line of this.splitter.push(chunk)) this.line(line);
  }

  /** Ends the input: a last line without a line break still counts. */
  finish(): LogSummary {
    const rest = this.splitter.peek();
    if (rest !== "") this.line(rest);
    this.record(this.classifier.flush());
    if (this.lastEvents.length > KEPT_ERRORS) {
      this.omitted += this.lastEvents.length - KEPT_ERRORS;
      this.lastEvents = this.lastEvents.slice(-KEPT_ERRORS);
    }
    const last = this.last;
    const estimate = estimateProgress(this.timed);
    return {
      lastStep: last?.step ?? null,
      totalSteps: last?.total ?? null,
      epoch: last?.epoch ?? null,
      stepTimeSeconds: finite(last?.stepTime ?? null) ?? estimate.stepTimeSeconds,
      errors: [...this.firstEvents, ...this.lastEvents].map((e) => ({
        kind: e.kind,
        line: e.line,
        lineNumber: e.lineNumber,
        ...(e.detail ? { detail: e.detail } : {}),
      })),
      format: this.parser.format,
      loss: finite(last?.loss ?? null),
      lines: this.lineCount,
      errorsOmitted: this.omitted,
      ...(this.explain && this.parser instanceof ProgressReader
        ? { counters: this.parser.explain() }
        : {}),
    };
  }

  private line(line: string): void {
    this.lineCount += 1;
    const point = this.parser.parseLine(line);
    if (point) {
      this.last = point;
      const at = parseLineTimestamp(line);
      if (at !== null) {
        this.timed.push({
          at,
          step: point.step,
          epoch: point.epoch,
          total: point.total,
          perEpoch: point.perEpoch ?? null,
        });
        if (this.timed.length > KEPT_POINTS * 2) this.timed.splice(0, KEPT_POINTS);
      }
    }
    const events = this.classifier.push(line, this.lineCount);
    if (events.length > 0) this.record(events);
  }

  private record(events: ClassifiedEvent[]): void {
    for (const event of events) {
      if (this.firstEvents.length < KEPT_ERRORS) {
        this.firstEvents.push(event);
        continue;
      }
      this.lastEvents.push(event);
      if (this.lastEvents.length > 2 * KEPT_ERRORS) {
        this.omitted += this.lastEvents.length - KEPT_ERRORS;
        this.lastEvents = this.lastEvents.slice(-KEPT_ERRORS);
      }
    }
  }
}

/** NaN and infinities become null in JSON anyway; say so explicitly. */
function finite(value: number | null): number | null {
  return value !== null && Number.isFinite(value) ? value : null;
}
