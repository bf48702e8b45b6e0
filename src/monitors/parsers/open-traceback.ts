import type { ClassifiedEvent, ErrorKind } from "../../model/monitoring.ts";
import { classifyText, displayLine, KIND_RANK } from "./error-rules.ts";

/** One exception line of a traceback (a chained traceback has several). */
export interface ExceptionLine {
  text: string;
  lineNumber: number;
  type: string;
  message: string;
}

/** A traceback being read, line by line, until it ends. */
export interface OpenTraceback {
  startLine: number;
  prefix: RegExp | null;
  mode: "frames" | "tail" | "chain";
  sawFrame: boolean;
  length: number;
  tailSeen: number;
  exceptions: ExceptionLine[];
  /** Single-line events just before or inside it: the same failure, told differently. */
  merged: ClassifiedEvent[];
  /** Python's "Exception ignored in:" shutdown noise; dropped unless it names a real cause. */
  ignored: boolean;
}

/**
 * The pattern of a prefix like "2024-05-01 10:00:01,123 ERROR ", matched on the traceback's
 * later lines with other digits: a logger stamps every line with a new time.
 */
export function prefixPattern(prefix: string): RegExp {
  const escaped = prefix
    .trimEnd()
    .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    .replace(/\d+/g, "\\d+");
  // One separating space at most: the indentation of frame lines must survive.
  return new RegExp(`^${escaped}\\s?`);
}

/**
 * The one event a finished traceback (with an exception line or a merged event) becomes: the
 * most specific kind any of its parts shows, told by the exception line that shows it. Null for
 * "Exception ignored in:" noise that names no real cause.
 */
export function tracebackEvent(tb: OpenTraceback): ClassifiedEvent | null {
  const candidates: {
    kind: ErrorKind;
    exception: ExceptionLine | null;
    event: ClassifiedEvent | null;
  }[] = [];
  for (const exception of tb.exceptions) {
    const found = classifyText(exception.text);
    const kind: ErrorKind =
      found?.kind ??
      (/(?:^|\.)KeyboardInterrupt$/.test(exception.type) ? "interrupted" : "traceback");
    candidates.push({ kind, exception, event: null });
  }
  for (const event of tb.merged) candidates.push({ kind: event.kind, exception: null, event });
  candidates.sort((a, b) => KIND_RANK[a.kind] - KIND_RANK[b.kind]);
  const best = candidates[0] as (typeof candidates)[number];
  if (tb.ignored && best.kind === "traceback") return null;
  // The decisive line is an exception line: the one showing the cause, else the last one.
  const exception =
    candidates.find((c) => c.exception && c.kind === best.kind)?.exception ??
    tb.exceptions[tb.exceptions.length - 1] ??
    null;
  const rule = exception ? classifyText(exception.text) : null;
  const detail: Record<string, string | number> = {
    ...(best.event?.detail ?? {}),
    ...(rule?.detail ?? {}),
  };
  if (exception) {
    detail.type = exception.type;
    detail.message = exception.message.slice(0, 500);
  }
  return {
    kind: best.kind,
    line: displayLine(exception?.text ?? best.event?.line ?? ""),
    lineNumber: exception?.lineNumber ?? best.event?.lineNumber ?? tb.startLine,
    source: "log",
    detail,
  };
}
