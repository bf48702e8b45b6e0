import { isAscii } from "node:buffer";

const LF = 0x0a;
const CR = 0x0d;

/** Default bound on the bytes kept of one line; the rest of a longer line is dropped. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

/**
 * Splits a byte stream (a log read in pieces, poll after poll) into complete text lines.
 *
 * - `\n`, `\r\n` and a lone `\r` each end a line, so tqdm's `\r` redraws become lines of
 *   their own; empty pieces produced only by `\r` redraws are dropped.
 * - A partial last line is kept and completed by the next push; {@link LineSplitter.pending}
 *   returns it as bytes so a poller can persist it between polls and pass it back.
 * - Invalid UTF-8 becomes U+FFFD; nothing here throws on input.
 * - A line longer than `maxLineBytes` keeps its first `maxLineBytes` bytes; the rest is
 *   skipped without being buffered, so a megabyte-long line costs linear time.
 */
export class LineSplitter {
  private readonly maxLineBytes: number;
  /** Head of the current partial line; never longer than maxLineBytes. */
  private head: Uint8Array;
  private headLength = 0;
  /**
   * The previous chunk ended with `\r`: that line is already emitted, and a `\n` that opens
   * the next chunk belongs to the same break. Persisted as a pending of exactly "\r", which a
   * real partial line can never be (it contains no break bytes).
   */
  private afterCr = false;

  constructor(options: { pending?: Buffer; maxLineBytes?: number } = {}) {
    this.maxLineBytes = Math.max(1, options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    this.head = new Uint8Array(Math.min(this.maxLineBytes, 4096));
    const pending = options.pending;
    if (pending && pending.length > 0) {
      if (pending.length === 1 && pending[0] === CR) this.afterCr = true;
      else this.append(pending, 0, pending.length);
    }
  }

  /** Feeds the next bytes; returns the lines they complete, without their line breaks. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    if (this.afterCr && chunk.length > 0) {
      if (chunk[0] === LF) start = 1;
      this.afterCr = false;
    }
    // Most logs are ASCII: then one decode of the whole chunk, with string offsets equal to
    // byte offsets, replaces a decode per line.
    const text = isAscii(chunk) ? chunk.toString("latin1") : null;
    const find = text
      ? (byte: number, from: number) => text.indexOf(byte === LF ? "\n" : "\r", from)
      : (byte: number, from: number) => chunk.indexOf(byte, from);
    let nextLf = find(LF, start);
    let nextCr = find(CR, start);
    while (start < chunk.length) {
      if (nextLf !== -1 && nextLf < start) nextLf = find(LF, start);
      if (nextCr !== -1 && nextCr < start) nextCr = find(CR, start);
      const end = nextLf === -1 ? nextCr : nextCr === -1 ? nextLf : Math.min(nextLf, nextCr);
      if (end === -1) {
        this.append(chunk, start, chunk.length);
        break;
      }
      const isCr = chunk[end] === CR;
      const line = this.takeLine(chunk, text, start, end);
      // A `\r` with nothing before it is tqdm clearing the line, not a line of its own.
      if (!(isCr && line.length === 0)) lines.push(line);
      start = end + 1;
      if (isCr) {
        if (start === chunk.length) this.afterCr = true;
        else if (chunk[start] === LF) start += 1;
      }
    }
    return lines;
  }

  /** The bytes of the unfinished last line (to persist between polls). */
  pending(): Buffer {
    if (this.afterCr) return Buffer.from([CR]);
    return Buffer.from(this.head.subarray(0, this.headLength));
  }

  /** The unfinished last line as text, without consuming it (for example a live tqdm bar). */
  peek(): string {
    return Buffer.from(this.head.buffer, this.head.byteOffset, this.headLength).toString("utf8");
  }

  private takeLine(chunk: Buffer, text: string | null, start: number, end: number): string {
    if (this.headLength === 0) {
      const stop = Math.min(end, start + this.maxLineBytes);
      return text !== null ? text.slice(start, stop) : chunk.toString("utf8", start, stop);
    }
    this.append(chunk, start, end);
    const line = this.peek();
    this.headLength = 0;
    return line;
  }

  private append(source: Uint8Array, start: number, end: number): void {
    const room = this.maxLineBytes - this.headLength;
    if (room <= 0) return;
    const count = Math.min(room, end - start);
    if (count <= 0) return;
    const needed = this.headLength + count;
    if (needed > this.head.length) {
      const grown = new Uint8Array(
        Math.min(this.maxLineBytes, Math.max(needed, this.head.length * 2)),
      );
      grown.set(this.head.subarray(0, this.headLength));
      this.head = grown;
    }
    this.head.set(source.subarray(start, start + count), this.headLength);
    this.headLength = needed;
  }
}
