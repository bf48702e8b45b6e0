/** Newest points a series keeps exactly, whatever its length. */
const TAIL = 8;

/** Points a series keeps before it halves its resolution. */
export const SERIES_CAPACITY = 128;

/**
 * Which of two neighbouring points a series keeps when it thins: the older one, or the one with
 * the larger or smaller value in `column` (the older on a tie).
 */
export interface KeepPoint {
  prefer: "older" | "larger" | "smaller";
  column: number;
}

/** Keeps the older of two neighbours: an even spread of real readings (medians, slopes). */
const keepOlder: KeepPoint = { prefer: "older", column: 0 };

/** Keeps the larger value of column `column` (peaks). */
export function keepLarger(column: number): KeepPoint {
  return { prefer: "larger", column };
}

/** Keeps the smaller value of column `column` (best loss). */
export function keepSmaller(column: number): KeepPoint {
  return { prefer: "smaller", column };
}

/** One point of a series as read: its time and its values. */
export interface SeriesPoint {
  at: number;
  values: readonly number[];
}

/**
 * A bounded time series of a few numbers per sample, for a rule that genuinely judges a series
 * (a median, a trend, a peak): points older than `span` before the newest go, the newest
 * {@link TAIL} are kept exactly, and when the older part holds {@link SERIES_CAPACITY} points it
 * keeps one of each neighbouring pair (the one `keep` picks), so a long window costs the same
 * memory as a short one at half the resolution. A window of at most that many samples is exact.
 * Points live in one flat array of doubles (time, then the values), not an object each: a
 * point costs 8 bytes a number. `null` values are stored as NaN.
 */
export class SampleSeries {
  /** Numbers a point takes: its time and its values. */
  private readonly cols: number;
  /** The older part, thinned: points `first` to `first + count - 1`. */
  private body: Float64Array;
  private first = 0;
  private count = 0;
  /** The newest points, exact: a ring of {@link TAIL}. */
  private tail: Float64Array;
  private tailFirst = 0;
  private tailCount = 0;
  /** Samples each point of the body stands for. */
  private stride = 1;
  /** Samples the body's newest point stands for so far (it takes more until `stride`). */
  private fill = 0;

  constructor(
    readonly span: number,
    private readonly width = 1,
    private readonly keep: KeepPoint = keepOlder,
    private readonly capacity = SERIES_CAPACITY,
  ) {
    this.cols = width + 1;
    this.body = new Float64Array(0);
    this.tail = new Float64Array(TAIL * this.cols);
  }

  /** Appends a reading (readings come oldest first). */
  push(at: number, values: readonly number[]): void {
    if (this.tailCount === TAIL) {
      this.toBody(this.tailFirst);
      this.tailFirst = (this.tailFirst + 1) % TAIL;
      this.tailCount--;
    }
    const slot = ((this.tailFirst + this.tailCount) % TAIL) * this.cols;
    this.tail[slot] = at;
    for (let c = 0; c < this.width; c++) this.tail[slot + 1 + c] = values[c] ?? Number.NaN;
    this.tailCount++;
    const oldest = at - this.span;
    while (this.count > 0 && (this.body[this.first * this.cols] as number) < oldest) {
      this.first++;
      this.count--;
    }
    while (this.tailCount > 0 && (this.tail[this.tailFirst * this.cols] as number) < oldest) {
      this.tailFirst = (this.tailFirst + 1) % TAIL;
      this.tailCount--;
    }
  }

  /** Forgets every point (a new training starts: what came before is not compared). */
  clear(): void {
    this.body = new Float64Array(0);
    this.first = 0;
    this.count = 0;
    this.tailFirst = 0;
    this.tailCount = 0;
    this.stride = 1;
    this.fill = 0;
  }

  /** Points with `at >= from`, oldest first. */
  since(from: number): SeriesPoint[] {
    const out: SeriesPoint[] = [];
    for (let i = 0; i < this.count; i++) {
      const o = (this.first + i) * this.cols;
      if ((this.body[o] as number) >= from) out.push(this.point(this.body, o));
    }
    for (let i = 0; i < this.tailCount; i++) {
      const o = ((this.tailFirst + i) % TAIL) * this.cols;
      if ((this.tail[o] as number) >= from) out.push(this.point(this.tail, o));
    }
    return out;
  }

  /** The newest point, or null. */
  newest(): SeriesPoint | null {
    if (this.tailCount > 0)
      return this.point(this.tail, ((this.tailFirst + this.tailCount - 1) % TAIL) * this.cols);
    return this.count > 0 ? this.point(this.body, (this.first + this.count - 1) * this.cols) : null;
  }

  /** How many points it holds (bounded: its capacity and {@link TAIL}). */
  get size(): number {
    return this.count + this.tailCount;
  }

  /** An independent copy. */
  copy(): SampleSeries {
    const c = new SampleSeries(this.span, this.width, this.keep, this.capacity);
    c.body = this.body.slice();
    c.first = this.first;
    c.count = this.count;
    c.tail = this.tail.slice();
    c.tailFirst = this.tailFirst;
    c.tailCount = this.tailCount;
    c.stride = this.stride;
    c.fill = this.fill;
    return c;
  }

  private point(from: Float64Array, offset: number): SeriesPoint {
    return {
      at: from[offset] as number,
      values: Array.from(from.subarray(offset + 1, offset + this.cols)),
    };
  }

  /** Whether thinning keeps the point at `a` (in `at`) over the newer one at `b` (in `bt`). */
  private keepsOlder(at: Float64Array, a: number, bt: Float64Array, b: number): boolean {
    const { prefer, column } = this.keep;
    if (prefer === "older") return true;
    const older = at[a + 1 + column] as number;
    const newer = bt[b + 1 + column] as number;
    return prefer === "larger" ? !(newer > older) : !(newer < older);
  }

  /** Moves the tail's oldest point (at ring index `index`) into the body. */
  private toBody(index: number): void {
    const o = index * this.cols;
    if (this.count > 0 && this.fill < this.stride) {
      const last = (this.first + this.count - 1) * this.cols;
      if (!this.keepsOlder(this.body, last, this.tail, o))
        this.body.set(this.tail.subarray(o, o + this.cols), last);
      this.fill++;
      return;
    }
    if ((this.first + this.count + 1) * this.cols > this.body.length) this.makeRoom();
    this.body.set(this.tail.subarray(o, o + this.cols), (this.first + this.count) * this.cols);
    this.count++;
    this.fill = 1;
    if (this.count >= this.capacity) this.halve();
  }

  /** Moves the body to the array's start, or doubles the array (up to its capacity). */
  private makeRoom(): void {
    if (this.first > 0) {
      this.body.copyWithin(0, this.first * this.cols, (this.first + this.count) * this.cols);
      this.first = 0;
      if (this.count * 2 <= this.body.length / this.cols) return;
    }
    const points = Math.min(this.capacity, Math.max(8, (this.body.length / this.cols) * 2));
    const grown = new Float64Array(points * this.cols);
    grown.set(this.body.subarray(0, this.count * this.cols));
    this.body = grown;
  }

  /** Keeps one point of each neighbouring pair: half the points, each standing for twice as many. */
  private halve(): void {
    const c = this.cols;
    let out = 0;
    for (let i = 0; i + 1 < this.count; i += 2) {
      const a = (this.first + i) * c;
      const b = a + c;
      const keep = this.keepsOlder(this.body, a, this.body, b) ? a : b;
      this.body.copyWithin(out * c, keep, keep + c);
      out++;
    }
    const odd = this.count % 2 === 1;
    if (odd) {
      const last = (this.first + this.count - 1) * c;
      this.body.copyWithin(out * c, last, last + c);
      out++;
    }
    this.first = 0;
    this.count = out;
    this.fill = odd ? this.fill : this.stride * 2;
    this.stride *= 2;
  }
}

/** A nullable number as a series stores it. */
export function num(value: number | null | undefined): number {
  return value === null || value === undefined ? Number.NaN : value;
}
