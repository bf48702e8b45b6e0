import type { ClassifiedEvent, ErrorKind } from "../../model/monitoring.ts";
import { classifyText, displayLine, normalizeLine } from "./error-rules.ts";
import { detailSize, type HeldEvent, heldEvent, sameFailure } from "./held-event.ts";
import { type OpenTraceback, prefixPattern, tracebackEvent } from "./open-traceback.ts";

export { classifyKernelLine } from "./error-rules.ts";

/**
 * Kinds whose line settles what happened: {@link ErrorClassifier.takeDecisive} announces them at
 * once instead of after the traceback's last line or the quiet that ends it.
 */
const DECISIVE_KINDS: ReadonlySet<ErrorKind> = new Set([
  "cuda_oom",
  "nccl_timeout",
  "worker_killed",
  "host_oom_kill",
]);

/** An event announced early and the finished event that replaces it (same failure). */
export interface EventUpdate {
  announced: ClassifiedEvent;
  final: ClassifiedEvent;
  /**
   * The failure is still open: `final` is itself an announcement (its cause changed to another
   * decisive kind), and a later update with `final` as its `announced` finishes it.
   */
  open?: boolean;
}

/** Lines a single-line event waits for a traceback or a repeat to merge with. */
const HOLD_LINES = 5;
/** Lines after an exception line in which a chained traceback may still continue. */
const TAIL_LINES = 3;
/** A traceback longer than this is cut: something is not a traceback after all. */
const MAX_TRACEBACK_LINES = 5000;
/** Lines after an event in which a native crash line (`Aborted`) is that event's end. */
const NATIVE_CRASH_WINDOW = 40;
/** An unfinished traceback this close after another event is its re-raise, not news. */
const RERAISE_WINDOW = 10;

const TRACEBACK_START = "Traceback (most recent call last):";
const CHAIN_MARKER =
  /During handling of the above exception, another exception occurred:|The above exception was the direct cause of the following exception:/;
const GPU_BUS_LINE =
  /NVRM: The NVIDIA GPU ([0-9a-fA-F]{4,8}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-9a-fA-F])/;
const EXCEPTION_LINE = /^(?:\*\*)?\s*([A-Za-z_][\w.]*)(?::\s?(.*))?$/;

/**
 * Classifies log lines into error events (see {@link ErrorKind}), one line at a time.
 *
 * A Python traceback, chained ones included, is one event with the kind of its most specific
 * cause and the exception line as its line. Single-line signatures wait a few lines so that
 * repeats (every rank reporting the same NCCL timeout, the OOM killer's two lines) become one
 * event, and a worker's message followed by the main process's traceback stays one failure.
 * Call {@link ErrorClassifier.flush} when the input pauses or ends to get what is still held.
 */
export class ErrorClassifier {
  private traceback: OpenTraceback | null = null;
  private held: HeldEvent[] = [];
  private previous: { text: string; prefixed: boolean; lineNumber: number } | null = null;
  private lastEventLine = Number.NEGATIVE_INFINITY;
  /** The driver names the GPU a line or two before it says the GPU fell off the bus. */
  private lastGpuBus: { bus: string; lineNumber: number } | null = null;
  /** Decisive events announced before they finished, by the traceback or held event. */
  private announced = new Map<OpenTraceback | HeldEvent, ClassifiedEvent>();
  private updates: EventUpdate[] = [];

  /** Feeds one line (1-based `lineNumber`); returns the events it completes. */
  push(line: string, lineNumber: number): ClassifiedEvent[] {
    const out: ClassifiedEvent[] = [];
    const normalized = normalizeLine(line);
    const previous = this.previous;
    this.previous = { text: normalized.text, prefixed: normalized.prefixed, lineNumber };

    // A terminal hard-wrap: the piece after a container-prefixed line arrives without prefix.
    if (
      previous?.prefixed &&
      !normalized.prefixed &&
      normalized.text.trim() !== "" &&
      !this.traceback &&
      this.rejoinWrapped(previous.text + normalized.text, previous.lineNumber)
    ) {
      this.previous = { text: previous.text + normalized.text, prefixed: true, lineNumber };
      return out;
    }

    this.releaseHeld(lineNumber, out);
    if (this.traceback)
      this.continueTraceback(normalized.text, lineNumber, out, previous?.text ?? "");
    else this.idleLine(normalized.text, lineNumber, previous?.text ?? "");
    return sortByLine(out);
  }

  /** Emits everything still pending: held events and an open traceback. */
  flush(): ClassifiedEvent[] {
    const out: ClassifiedEvent[] = [];
    if (this.traceback) this.finishTraceback(out, true);
    for (const held of this.held) this.emitFor(held, heldEvent(held), out);
    this.held = [];
    return sortByLine(out);
  }

  /**
   * Like {@link flush}, but leaves open what {@link takeDecisive} already announced: that event
   * is stored, and the rest of its traceback (or its repeats from other ranks) may still come.
   */
  flushUnannounced(): ClassifiedEvent[] {
    const out: ClassifiedEvent[] = [];
    if (this.traceback && !this.announced.has(this.traceback)) this.finishTraceback(out, true);
    const kept: typeof this.held = [];
    for (const held of this.held) {
      if (this.announced.has(held)) kept.push(held);
      else this.emitFor(held, heldEvent(held), out);
    }
    this.held = kept;
    return sortByLine(out);
  }

  /**
   * The decisive failures (CUDA OOM, NCCL timeout, a killed worker, a host OOM kill) whose
   * deciding line has arrived but whose event is still open (the traceback's tail, repeats from
   * other ranks), each returned once. When such an event finishes, push() and flush() leave it
   * out and {@link takeUpdates} returns it instead, as the richer version of the announced one.
   * Callers that never call this get every event from push() and flush() as before.
   */
  takeDecisive(): ClassifiedEvent[] {
    const out: ClassifiedEvent[] = [];
    const tb = this.traceback;
    if (tb && tb.exceptions.length > 0) {
      const event = tracebackEvent(tb);
      const announced = this.announced.get(tb);
      if (!announced) {
        if (event && DECISIVE_KINDS.has(event.kind)) {
          this.announced.set(tb, event);
          out.push(event);
        }
      } else if (event && DECISIVE_KINDS.has(event.kind) && event.kind !== announced.kind) {
        // The traceback took over an announced event (an NCCL timeout just before it) and its
        // exception line shows another decisive cause (a CUDA OOM): that is news now, not when
        // the traceback's tail ends it, so the announcement changes at once.
        this.announced.set(tb, event);
        this.updates.push({ announced, final: event, open: true });
      }
    }
    for (const held of this.held) {
      if (this.announced.has(held) || !DECISIVE_KINDS.has(held.event.kind)) continue;
      const event = heldEvent(held);
      this.announced.set(held, event);
      out.push(event);
    }
    return out;
  }

  /** Finished versions of events {@link takeDecisive} announced, oldest first; each once. */
  takeUpdates(): EventUpdate[] {
    const updates = this.updates;
    this.updates = [];
    return updates;
  }

  private idleLine(text: string, lineNumber: number, previousText: string) {
    const start = text.indexOf(TRACEBACK_START);
    if (start >= 0) {
      this.openTraceback(
        text.slice(0, start),
        lineNumber,
        /Exception ignored in/.test(previousText),
      );
      return;
    }
    const bus = GPU_BUS_LINE.exec(text);
    if (bus) this.lastGpuBus = { bus: bus[1] as string, lineNumber };
    const found = classifyText(text);
    if (!found) return;
    // A native crash line (`Aborted (core dumped)`) soon after another failure is how that
    // failure ended (glog's `Check failed`, its stack dump, then the abort): no second event.
    if (
      found.kind === "traceback" &&
      (this.held.length > 0 || lineNumber - this.lastEventLine <= NATIVE_CRASH_WINDOW)
    )
      return;
    const recentBus = this.lastGpuBus;
    if (
      found.kind === "gpu_fault" &&
      found.detail.pci === undefined &&
      recentBus &&
      lineNumber - recentBus.lineNumber <= 3
    ) {
      found.detail.pci = recentBus.bus;
    }
    const event: ClassifiedEvent = {
      kind: found.kind,
      line: displayLine(text),
      lineNumber,
      source: "log",
      detail: found.detail,
    };
    const same = this.held.find((h) => sameFailure(h.event, event));
    if (same) {
      same.count += 1;
      same.lastLine = lineNumber;
      // The richer line (more facts) becomes the decisive one: the OOM killer's "Killed
      // process" line says more than its "oom-kill:" preamble.
      if (detailSize(event) > detailSize(same.event)) same.event = event;
      return;
    }
    this.held.push({ event, lastLine: lineNumber, count: 1 });
  }

  private openTraceback(prefix: string, lineNumber: number, ignored: boolean): void {
    this.traceback = {
      startLine: lineNumber,
      prefix: prefix.trim() === "" ? null : prefixPattern(prefix),
      mode: "frames",
      sawFrame: false,
      length: 0,
      tailSeen: 0,
      exceptions: [],
      merged: this.held.map(heldEvent),
      ignored,
    };
    // A held event already announced is now part of this traceback: the traceback's event
    // finishes the announcement.
    const announced = this.held.find((held) => this.announced.has(held));
    if (announced) {
      this.announced.set(this.traceback, this.announced.get(announced) as ClassifiedEvent);
      for (const held of this.held) this.announced.delete(held);
    }
    this.held = [];
  }

  private continueTraceback(
    raw: string,
    lineNumber: number,
    out: ClassifiedEvent[],
    previousText: string,
  ): void {
    const tb = this.traceback as OpenTraceback;
    tb.length += 1;
    const text = tb.prefix ? raw.replace(tb.prefix, "") : raw;
    const blank = text.trim() === "";
    if (tb.length > MAX_TRACEBACK_LINES) {
      this.finishTraceback(out, false);
      return;
    }
    if (tb.mode === "frames") {
      if (blank) return;
      if (/^\s/.test(text)) {
        if (/^\s*File "/.test(text)) tb.sawFrame = true;
        return;
      }
      if (text.includes(TRACEBACK_START)) return;
      const m = EXCEPTION_LINE.exec(text.trim());
      tb.exceptions.push({
        text,
        lineNumber,
        type: m?.[1] ?? "unknown",
        message: m ? (m[2] ?? "").trim() : text.trim(),
      });
      tb.mode = "tail";
      tb.tailSeen = 0;
      return;
    }
    if (CHAIN_MARKER.test(text)) {
      tb.mode = "chain";
      return;
    }
    if (text.includes(TRACEBACK_START)) {
      if (tb.mode === "chain") {
        tb.mode = "frames";
        tb.sawFrame = false;
        return;
      }
      // A new traceback without a chain marker: a separate failure (or its re-raise).
      this.finishTraceback(out, false);
      this.openTraceback(
        raw.slice(0, raw.indexOf(TRACEBACK_START)),
        lineNumber,
        /Exception ignored in/.test(previousText),
      );
      return;
    }
    if (blank) return;
    if (tb.mode === "chain") {
      this.finishTraceback(out, false);
      this.idleLine(raw, lineNumber, "");
      return;
    }
    // Tail: lines right after the exception often continue its message.
    tb.tailSeen += 1;
    const found = classifyText(text);
    if (found) {
      tb.merged.push({
        kind: found.kind,
        line: displayLine(text),
        lineNumber,
        source: "log",
        detail: found.detail,
      });
    }
    if (tb.tailSeen >= TAIL_LINES) this.finishTraceback(out, false);
  }

  private finishTraceback(out: ClassifiedEvent[], endOfInput: boolean): void {
    const tb = this.traceback as OpenTraceback;
    this.traceback = null;
    if (tb.exceptions.length === 0 && tb.merged.length === 0) {
      // Cut off before its exception line (the log ends, or a re-raise was truncated).
      this.announced.delete(tb);
      if (!endOfInput || tb.startLine - this.lastEventLine <= RERAISE_WINDOW) return;
      this.emit(
        {
          kind: "traceback",
          line: "Traceback (most recent call last): (ends before its exception line)",
          lineNumber: tb.startLine,
          source: "log",
          detail: { type: "unknown", message: "" },
        },
        out,
      );
      return;
    }
    const event = tracebackEvent(tb);
    if (event) this.emitFor(tb, event, out);
    else this.announced.delete(tb);
  }

  /** Re-reads a held event's line with its wrapped continuation; true when it was one. */
  private rejoinWrapped(joined: string, lineNumber: number): boolean {
    const held = this.held.find((h) => h.event.lineNumber === lineNumber);
    const found = classifyText(joined);
    if (!held || !found) return false;
    held.event = {
      ...held.event,
      kind: found.kind,
      line: displayLine(joined),
      detail: found.detail,
    };
    return true;
  }

  private releaseHeld(lineNumber: number, out: ClassifiedEvent[]): void {
    if (this.held.length === 0) return;
    const keep: HeldEvent[] = [];
    for (const held of this.held) {
      if (lineNumber - held.lastLine > HOLD_LINES) this.emitFor(held, heldEvent(held), out);
      else keep.push(held);
    }
    this.held = keep;
  }

  /** Emits a finished event, or records it as the update of its early announcement. */
  private emitFor(
    source: OpenTraceback | HeldEvent,
    event: ClassifiedEvent,
    out: ClassifiedEvent[],
  ): void {
    const announced = this.announced.get(source);
    if (!announced) {
      this.emit(event, out);
      return;
    }
    this.announced.delete(source);
    this.lastEventLine = Math.max(this.lastEventLine, event.lineNumber ?? 0);
    this.updates.push({ announced, final: event });
  }

  private emit(event: ClassifiedEvent, out: ClassifiedEvent[]): void {
    this.lastEventLine = Math.max(this.lastEventLine, event.lineNumber ?? 0);
    out.push(event);
  }
}

function sortByLine(events: ClassifiedEvent[]): ClassifiedEvent[] {
  if (events.length < 2) return events;
  return events.sort((a, b) => (a.lineNumber ?? 0) - (b.lineNumber ?? 0));
}
