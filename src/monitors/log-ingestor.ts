import type { Clock } from "../core/clock.ts";
import type { LineMatch, LinePattern } from "../model/line-pattern.ts";
import type { ClassifiedEvent, StepPoint } from "../model/monitoring.ts";
import type { LogOffset } from "../store/log-offsets-repo.ts";
import type { MonitorStore } from "../store/monitor-store.ts";
import type { TimedStep } from "../store/steps-repo.ts";
import { ErrorClassifier, type EventUpdate } from "./parsers/error-classifier.ts";
import { LinePatternMatcher } from "./parsers/line-pattern-matcher.ts";
import { LineSplitter } from "./parsers/line-splitter.ts";
import type { RankedLine, RankedLogReader } from "./parsers/rank-prefix.ts";
import { createStepParser, type StepParser } from "./parsers/step-parser.ts";
import type { LogReset, ProbeLog } from "./probe/probe-output.ts";

/** Bytes of the log starting at a known offset of a known file. */
export interface LogChunk {
  inode: string;
  /** Offset of `bytes[0]` in the file. */
  start: number;
  bytes: Buffer;
  /** Set by the probe when it restarted reading (first attach, rotation, truncation). */
  reset: LogReset;
  /** Length and `cksum` of the file's first bytes, stored as part of its identity. */
  prefix?: { length: number; sum: string };
  /** `inode size mtime` of the rotated file at this read (see LogOffset.rotatedStamp). */
  rotatedStamp?: string;
}

/** One read of the log: the old file's unread end (if found), then the current file. */
export interface LogRead {
  rest: (ProbeLog & { present: true }) | null;
  log: ProbeLog;
}

/** What applying one {@link LogRead} did. */
export interface ReadResult extends IngestResult {
  /** Reading moved to another file (rotation, truncation, rewrite): a follow stream must reopen. */
  identityChanged: boolean;
  /** The file was rewritten in place past the offset; this read took it from its start. */
  rewritten: boolean;
  /** The file changed during the read (fewer bytes than announced, or not ours before the offset): nothing was applied. */
  torn: boolean;
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
  /** Events stored earlier whose kind this read changed (finished, or a new cause found). */
  changed: ClassifiedEvent[];
  /** Lines stored as matching the user's patterns. */
  matched: number;
}

export interface LogIngestorOptions {
  run: string;
  store: MonitorStore;
  clock: Clock;
  steps: { format: string; regex?: string };
  /** Lines carry rank or node prefixes (a multi-node job): read progress once, tag errors. */
  ranks?: RankedLogReader;
  /** The user's line patterns (`alerts.rules.pattern`): each line is tested once, as it is read. */
  patterns?: readonly LinePattern[];
}

/**
 * Turns log bytes into step points and classified events, exactly once. Every read (a poll's, or
 * one a follow stream asked for) comes through {@link LogIngestor.applyRead}; each chunk carries
 * its file offset, and anything before the stored offset is dropped, so overlapping reads never
 * double count. Offset, file identity, partial line, steps and events, including those still
 * held by the classifier, are written in one transaction: a process killed at any moment has
 * either stored a line's effects and moved past it, or neither.
 */
export class LogIngestor {
  private readonly parser: StepParser;
  private classifier = new ErrorClassifier();
  /** One classifier per rank of a multi-node log (their tracebacks interleave), with its prefix. */
  private rankClassifiers = new Map<string, { classifier: ErrorClassifier; line: RankedLine }>();
  /** The newest step point not stored yet, and when a step point was last stored. */
  private pendingStep: TimedStep | null = null;
  private stepStoredAt = Number.NEGATIVE_INFINITY;
  /** Ids of events stored at their decisive line, until their finished version replaces them. */
  private announcedIds = new Map<ClassifiedEvent, number>();
  private readonly matcher: LinePatternMatcher;
  private verify = true;

  /**
   * Whether the next read must check the file in full on the VM (see LogReadRequest.verify):
   * the first read of this process, any read after one found torn (its file changed in a way
   * only the full check tells apart: rewritten, truncated and grown again), and the first read
   * of a log that was missing.
   */
  get verifyNext(): boolean {
    return this.verify;
  }

  constructor(private readonly options: LogIngestorOptions) {
    this.parser = createStepParser(options.steps);
    this.matcher = new LinePatternMatcher(options.patterns ?? []);
  }

  /**
   * Applies one read in one transaction: the verified rest of the old file first, then the
   * current file, then whatever the classifier still holds (nothing waits in memory for a
   * next read that a kill could lose).
   */
  applyRead(read: LogRead): ReadResult {
    const result = this.applyReadOnce(read);
    // A log missing (or waiting for its rotated file's rest) is looked at in full when it is back.
    this.verify = result.torn || !read.log.present;
    return result;
  }

  private applyReadOnce(read: LogRead): ReadResult {
    const { store, run } = this.options;
    return store.transaction(() => {
      const stored = store.offsets.get(run);
      if (torn(read.rest, stored) || (read.log.present && torn(read.log, stored))) {
        // The file changed between the probe's look and its read (a copytruncate or a rewrite
        // landed in between): nothing of this read is applied; the next one looks again.
        return { ...emptyIngestResult(), identityChanged: false, rewritten: false, torn: true };
      }
      const results: IngestResult[] = [];
      let identityChanged = false;
      if (read.rest && read.rest.reset !== "none") {
        // Our file was truncated or rewritten before it was renamed: all of it is new.
        identityChanged = true;
        results.push(
          this.ingest({
            inode: read.rest.inode,
            start: read.rest.start,
            bytes: read.rest.bytes,
            reset: read.rest.reset,
            ...(read.rest.prefix ? { prefix: read.rest.prefix } : {}),
          }),
        );
      } else if (read.rest && stored?.inode) {
        results.push(
          this.ingest({
            inode: stored.inode,
            start: read.rest.start,
            bytes: read.rest.bytes,
            reset: "none",
          }),
        );
      }
      const log = read.log;
      // Same file, not shorter than the offset, yet not ours before it: rewritten in place.
      const rewritten =
        log.present &&
        log.reset === "truncated" &&
        read.rest === null &&
        stored !== null &&
        log.inode === stored.inode &&
        log.size >= stored.offset;
      if (log.present) {
        if (log.reset !== "none" && log.reset !== "attach") identityChanged = true;
        results.push(
          this.ingest({
            inode: log.inode,
            start: log.start,
            bytes: log.bytes,
            reset: log.reset,
            ...(log.prefix ? { prefix: log.prefix } : {}),
            rotatedStamp: log.rotatedStamp ?? "",
          }),
        );
      }
      const latest = store.offsets.get(run);
      // Seen even when nothing new was read: only a later change of it means a rotation. While
      // the rest of a rotated file is still being read, none is recorded, so the next read
      // looks at whatever file then has the rotated name.
      const rotatedStamp = log.present ? log.rotatedStamp : log.deferred ? "" : undefined;
      if (latest && rotatedStamp !== undefined && latest.rotatedStamp !== rotatedStamp) {
        store.offsets.set(run, { ...latest, rotatedStamp }, this.options.clock.now());
      }
      // Held lines end with the read that brought them (a kill must not lose them), except a
      // decisive failure already stored: its traceback's tail may still come to enrich it.
      results.push(this.flush({ keepAnnounced: true }));
      return {
        newBytes: results.reduce((n, r) => n + r.newBytes, 0),
        lines: results.reduce((n, r) => n + r.lines, 0),
        lastStep: results.reduce<StepPoint | null>((last, r) => r.lastStep ?? last, null),
        eventIds: results.flatMap((r) => r.eventIds),
        events: results.flatMap((r) => r.events),
        changed: results.flatMap((r) => r.changed),
        matched: results.reduce((n, r) => n + r.matched, 0),
        identityChanged,
        rewritten,
        torn: false,
      };
    });
  }

  ingest(chunk: LogChunk): IngestResult {
    const { store, run, clock } = this.options;
    return store.transaction(() => {
      const stored = store.offsets.get(run);
      let offset = stored?.offset ?? 0;
      let partial = stored?.partial ?? Buffer.alloc(0);
      let lineCount = stored?.lineCount ?? 0;
      let bytes = chunk.bytes;
      const sameFile = stored !== null && stored.inode === chunk.inode && chunk.reset === "none";
      const anchorSource = sameFile ? null : chunk.bytes;
      const events: ClassifiedEvent[] = [];
      if (!sameFile) {
        // What the classifier still holds (a line waiting for its repeats) ends with its file.
        events.push(...this.classifier.flush());
        // A new file or a re-read from the start: what we held belongs to the old content.
        offset = chunk.start;
        partial = Buffer.alloc(0);
        // Line numbers (in events) count within one file.
        lineCount = 0;
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
        return emptyIngestResult();
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
      const matches: LineMatch[] = [];
      this.matcher.startRead();
      for (const line of lines) {
        lineCount += 1;
        const ranks = this.options.ranks;
        if (ranks) {
          const ranked = ranks.route(line);
          if (!this.matcher.empty) matches.push(...this.matcher.match(ranked.text));
          const point = this.parser.parseLine(ranked.text);
          if (point && ranks.acceptStep(ranked)) lastStep = point;
          const found = this.rankClassifier(ranks, ranked).push(ranked.text, lineCount);
          events.push(...found.map((event) => ranks.tag(event, ranked)));
          continue;
        }
        const point = this.parser.parseLine(line);
        if (point) lastStep = point;
        if (!this.matcher.empty) matches.push(...this.matcher.match(line));
        events.push(...this.classifier.push(line, lineCount));
      }
      for (const match of matches) store.logMatches?.insert(run, now, match);
      const eventIds = events.map((event) => store.events.insert(run, now, event));
      // A decisive line (CUDA OOM, NCCL timeout…) is stored and reported now; the rest of its
      // traceback updates the same event when it arrives, so it alerts once, without waiting.
      const changed = this.storeUpdates(this.classifier.takeUpdates());
      for (const event of this.classifier.takeDecisive()) {
        const id = store.events.insert(run, now, event);
        this.announcedIds.set(event, id);
        events.push(event);
        eventIds.push(id);
      }
      // An announced failure whose cause changed (see EventUpdate.open) is news too.
      changed.push(...this.storeUpdates(this.classifier.takeUpdates()));
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
          prefixLength: chunk.prefix?.length ?? (sameFile ? (stored?.prefixLength ?? 0) : 0),
          prefixSum: chunk.prefix?.sum ?? (sameFile ? (stored?.prefixSum ?? "") : ""),
          rotatedStamp: chunk.rotatedStamp ?? stored?.rotatedStamp ?? "",
        },
        now,
      );
      return {
        newBytes: bytes.length,
        lines: lines.length,
        lastStep,
        eventIds,
        events,
        changed,
        matched: matches.length,
      };
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
  flush(options: { keepAnnounced?: boolean } = {}): IngestResult {
    const { store, run, clock } = this.options;
    const events = options.keepAnnounced
      ? this.classifier.flushUnannounced()
      : this.classifier.flush();
    for (const { classifier, line } of this.rankClassifiers.values()) {
      const ranks = this.options.ranks;
      events.push(...classifier.flush().map((event) => ranks?.tag(event, line) ?? event));
    }
    const updates = this.classifier.takeUpdates();
    if (events.length === 0 && updates.length === 0) return emptyIngestResult();
    const now = clock.now();
    let changed: ClassifiedEvent[] = [];
    const eventIds = store.transaction(() => {
      changed = this.storeUpdates(updates);
      return events.map((e) => store.events.insert(run, now, e));
    });
    return { newBytes: 0, lines: 0, lastStep: null, eventIds, events, changed, matched: 0 };
  }

  /**
   * Replaces announced events by their finished versions (line, kind and detail). Returns the
   * stored events whose kind changed: an alert rule that did not match them before may now.
   */
  private storeUpdates(updates: EventUpdate[]): ClassifiedEvent[] {
    const changed: ClassifiedEvent[] = [];
    for (const { announced, final, open } of updates) {
      const id = this.announcedIds.get(announced);
      if (id === undefined) continue;
      this.announcedIds.delete(announced);
      if (open) this.announcedIds.set(final, id);
      this.options.store.events.update(id, final);
      if (final.kind !== announced.kind) changed.push(final);
    }
    return changed;
  }
}

/** A follow stream stores a step point at most this often; polls store theirs in any case. */
const STEP_EVERY_MS = 60_000;

/**
 * Whether a section's bytes are not what the probe looked at: the file's start or size was
 * different after the read, fewer bytes came than announced (truncated before the read), or,
 * from the stored offset, they do not start with the bytes consumed there (truncated and
 * written again in between).
 */
function torn(log: (ProbeLog & { present: true }) | null, stored: LogOffset | null): boolean {
  if (!log) return false;
  if (log.changed) return true;
  if (log.announced !== undefined && log.bytes.length < log.announced) return true;
  if (log.reset !== "none" || !stored || stored.anchor === "") return false;
  const anchor = Buffer.from(stored.anchor, "hex");
  if (log.start !== stored.offset - anchor.length) return false;
  return !log.bytes.subarray(0, anchor.length).equals(anchor);
}

/**
 * Bytes kept before the offset to notice a rewritten file. Log lines repeat their last 32 bytes
 * (`loss=... time=...s`); 256 span a whole line or more, with its step number and timestamp.
 */
const ANCHOR_BYTES = 256;

function nextAnchor(consumed: Buffer): string {
  return consumed.subarray(Math.max(0, consumed.length - ANCHOR_BYTES)).toString("hex");
}

/** What a read that applies nothing reports: no bytes, lines, steps or events. */
export function emptyIngestResult(): IngestResult {
  return {
    newBytes: 0,
    lines: 0,
    lastStep: null,
    eventIds: [],
    events: [],
    changed: [],
    matched: 0,
  };
}
