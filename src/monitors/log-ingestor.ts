import type { Clock } from "../core/clock.ts";
import type { ClassifiedEvent, StepPoint } from "../model/monitoring.ts";
import type { MonitorStore } from "../store/monitor-store.ts";
import type { TimedStep } from "../store/steps-repo.ts";
import { ErrorClassifier, type EventUpdate } from "./parsers/error-classifier.ts";
import { LineSplitter } from "./parsers/line-splitter.ts";
import type { RankedLine, RankedLogReader } from "./parsers/rank-prefix.ts";
import { createStepParser, type StepParser } from "./parsers/step-parser.ts";
import type { LogReset } from "./probe/probe-output.ts";

/** Bytes of the log starting at a known offset of a known file. */
export interface LogChunk {
  inode: string;
  /** Offset of `bytes[0]` in the file. */
  start: number;
  bytes: Buffer;
  /** Set by the probe when it restarted reading (first attach, rotation, truncation). */
  reset: LogReset;
  /** For follow streams: the generation they started in (see `generation`). */
  generation?: number;
}

/** What one chunk added. */
export interface IngestResult {
  /** New bytes consumed (after removing what was already read). */
  newBytes: number;
  lines: number;
  lastStep: StepPoint | null;
  /** Ids of the events stored, in order. */
  eventIds: number[];
  events: ClassifiedEvent[];
  /** The chunk came from a stream opened before the log was rotated or truncated. */
  stale?: boolean;
}

export interface LogIngestorOptions {
  run: string;
  store: MonitorStore;
  clock: Clock;
  steps: { format: string; regex?: string };
  /** Lines carry rank or node prefixes (a multi-node job): read progress once, tag errors. */
  ranks?: RankedLogReader;
}

/**
 * Turns log bytes into step points and classified events, exactly once. Both the poll and the
 * follow stream feed it; each chunk carries its file offset, and anything before the stored
 * offset is dropped, so overlapping reads never double count. Offset, partial line, steps and
 * events are written in one transaction.
 */
export class LogIngestor {
  private readonly parser: StepParser;
  private classifier = new ErrorClassifier();
  /** One classifier per rank of a multi-node log (their tracebacks interleave), with its prefix. */
  private rankClassifiers = new Map<string, { classifier: ErrorClassifier; line: RankedLine }>();
  private currentGeneration = 0;
  /** The newest step point not stored yet, and when a step point was last stored. */
  private pendingStep: TimedStep | null = null;
  private stepStoredAt = Number.NEGATIVE_INFINITY;
  /** Ids of events stored at their decisive line, until their finished version replaces them. */
  private announcedIds = new Map<ClassifiedEvent, number>();

  constructor(private readonly options: LogIngestorOptions) {
    this.parser = createStepParser(options.steps);
  }

  /**
   * Bumped whenever reading restarts (attach, rotation, truncation). A follow stream records it
   * when it opens; chunks from an older generation are refused, and the stream is reopened.
   */
  get generation(): number {
    return this.currentGeneration;
  }

  ingest(chunk: LogChunk): IngestResult {
    const { store, run, clock } = this.options;
    return store.transaction(() => {
      const stored = store.offsets.get(run);
      let offset = stored?.offset ?? 0;
      let partial = stored?.partial ?? Buffer.alloc(0);
      let lineCount = stored?.lineCount ?? 0;
      let bytes = chunk.bytes;
      if (chunk.generation !== undefined && chunk.generation !== this.currentGeneration) {
        // A follow stream opened before a rotation or truncation: its offsets are stale.
        return { ...empty(), stale: true };
      }
      const sameFile = stored !== null && stored.inode === chunk.inode && chunk.reset === "none";
      const anchorSource = sameFile ? null : chunk.bytes;
      if (!sameFile) {
        // A new file or a re-read from the start: what we held belongs to the old content.
        this.currentGeneration += 1;
        offset = chunk.start;
        partial = Buffer.alloc(0);
        this.classifier = new ErrorClassifier();
        this.rankClassifiers.clear();
        this.announcedIds.clear();
        if (chunk.reset === "attach" && chunk.start > 0) {
          // A backfill starts mid-line; skip to the first full line.
          const firstBreak = bytes.indexOf(0x0a);
          const skip = firstBreak < 0 ? bytes.length : firstBreak + 1;
          bytes = bytes.subarray(skip);
          offset += skip;
        }
      } else if (chunk.start + bytes.length <= offset) {
        return empty();
      } else if (chunk.start < offset) {
        bytes = bytes.subarray(offset - chunk.start);
      } else if (chunk.start > offset) {
        // Bytes were skipped; the partial line we held cannot be completed.
        offset = chunk.start;
        partial = Buffer.alloc(0);
      }

      const anchor = nextAnchor(
        anchorSource ?? Buffer.concat([Buffer.from(stored?.anchor ?? "", "hex"), bytes]),
      );
      const splitter = new LineSplitter({ pending: partial });
      const lines = splitter.push(bytes);
      const now = clock.now();
      let lastStep: StepPoint | null = null;
      const events: ClassifiedEvent[] = [];
      for (const line of lines) {
        lineCount += 1;
        const ranks = this.options.ranks;
        if (ranks) {
          const ranked = ranks.route(line);
          const point = this.parser.parseLine(ranked.text);
          if (point && ranks.acceptStep(ranked)) lastStep = point;
          const found = this.rankClassifier(ranks, ranked).push(ranked.text, lineCount);
          events.push(...found.map((event) => ranks.tag(event, ranked)));
          continue;
        }
        const point = this.parser.parseLine(line);
        if (point) lastStep = point;
        events.push(...this.classifier.push(line, lineCount));
      }
      const eventIds = events.map((event) => store.events.insert(run, now, event));
      // A decisive line (CUDA OOM, NCCL timeout…) is stored and reported now; the rest of its
      // traceback updates the same event when it arrives, so it alerts once, without waiting.
      this.storeUpdates(this.classifier.takeUpdates());
      for (const event of this.classifier.takeDecisive()) {
        const id = store.events.insert(run, now, event);
        this.announcedIds.set(event, id);
        events.push(event);
        eventIds.push(id);
      }
      // One step point per poll (see storePendingStep), or per STEP_EVERY_MS from a follow
      // stream between polls, rather than one row per chunk: the store stays small, and the
      // progress estimate reads the newest points either way.
      if (lastStep) this.pendingStep = { ...lastStep, at: now };
      if (now - this.stepStoredAt >= STEP_EVERY_MS) this.storePendingStep();
      store.offsets.set(
        run,
        {
          inode: chunk.inode,
          offset: offset + bytes.length,
          partial: splitter.pending(),
          lineCount,
          kernelMark: stored?.kernelMark ?? null,
          anchor,
        },
        now,
      );
      return { newBytes: bytes.length, lines: lines.length, lastStep, eventIds, events };
    });
  }

  private rankClassifier(ranks: RankedLogReader, line: RankedLine): ErrorClassifier {
    const key = ranks.streamOf(line);
    let entry = this.rankClassifiers.get(key);
    if (!entry) {
      entry = { classifier: new ErrorClassifier(), line };
      this.rankClassifiers.set(key, entry);
    }
    return entry.classifier;
  }

  /** Stores the newest step point read since the last one stored, if any. */
  storePendingStep(): void {
    const pending = this.pendingStep;
    if (!pending) return;
    this.options.store.steps.insert(this.options.run, pending);
    this.pendingStep = null;
    this.stepStoredAt = pending.at;
  }

  /**
   * Ends a traceback that is still open (the log went quiet or the process died), so it is
   * stored now rather than when the next line arrives.
   */
  flush(): IngestResult {
    const { store, run, clock } = this.options;
    const events = this.classifier.flush();
    for (const { classifier, line } of this.rankClassifiers.values()) {
      const ranks = this.options.ranks;
      events.push(...classifier.flush().map((event) => ranks?.tag(event, line) ?? event));
    }
    const updates = this.classifier.takeUpdates();
    if (events.length === 0 && updates.length === 0) return empty();
    const now = clock.now();
    const eventIds = store.transaction(() => {
      this.storeUpdates(updates);
      return events.map((e) => store.events.insert(run, now, e));
    });
    return { newBytes: 0, lines: 0, lastStep: null, eventIds, events };
  }

  /** Replaces announced events by their finished versions (line, kind and detail). */
  private storeUpdates(updates: EventUpdate[]): void {
    for (const { announced, final } of updates) {
      const id = this.announcedIds.get(announced);
      if (id === undefined) continue;
      this.announcedIds.delete(announced);
      this.options.store.events.update(id, final);
    }
  }
}

/** A follow stream stores a step point at most this often; polls store theirs in any case. */
const STEP_EVERY_MS = 60_000;

/** Bytes kept before the offset to notice a rewritten file; 32 make a false match negligible. */
const ANCHOR_BYTES = 32;

function nextAnchor(consumed: Buffer): string {
  return consumed.subarray(Math.max(0, consumed.length - ANCHOR_BYTES)).toString("hex");
}

function empty(): IngestResult {
  return { newBytes: 0, lines: 0, lastStep: null, eventIds: [], events: [] };
}
