import { type CounterStats, IN_EPOCH_KINDS } from "./counter-ledger.ts";
import type { Counter, LineReading } from "./line-reading.ts";

/**
 * Whether counter `c` counts within an epoch (resets when the epoch moves on, or is printed
 * nested in it) rather than over the whole run.
 */
export function countsInEpoch(
  c: Counter,
  s: CounterStats | undefined,
  reading: LineReading,
): boolean {
  if (c.epoch !== null) return true;
  if (!s) return false;
  if (s.carriedOverEpoch > 0 || s.beyondBatch > 0) return false;
  if (s.resetsOnEpoch > 0) return true;
  if (IN_EPOCH_KINDS.has(c.kind)) return true;
  // Printed after its epoch on the same line (`Epoch [1/3] Step [415/2500]`, Lightning's
  // `Epoch 0: ... 1664/1702`): nested in it. Printed before it, it is the run's own count.
  return (
    reading.epoch !== null && reading.epochAt >= 0 && reading.epochAt < c.at && c.total !== null
  );
}

/**
 * An in-epoch position `value` of `perEpoch` in epoch `epoch` as a global step over the run:
 * `(epoch - first) × perEpoch + value` of `epochs × perEpoch`. A log counting epochs from 0
 * prints the last index as its count (`Epoch 0/59`, YOLOv5's `0/299`): one epoch more.
 */
export function globalStep(
  value: number,
  perEpoch: number,
  epoch: number,
  epochs: number,
  firstEpoch: 0 | 1,
): { step: number; total: number } {
  return {
    step: Math.max(0, epoch - firstEpoch) * perEpoch + value,
    total: (epochs + (firstEpoch === 0 ? 1 : 0)) * perEpoch,
  };
}
