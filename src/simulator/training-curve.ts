import type { SeededRandom } from "./seeded-random.ts";

/**
 * The numbers a simulated run logs per step: its epoch, a loss that falls with noise (and turns
 * NaN from a chosen step, to exercise the NaN alert) and a cosine learning-rate schedule.
 */
export class TrainingCurve {
  constructor(
    private readonly s: {
      stepsPerEpoch: number;
      epochs: number;
      total: number;
      learningRate: number;
      nanAtStep: number | null;
      /** Shared with the trainer: the draw order keeps a seeded run reproducible. */
      random: SeededRandom;
    },
  ) {}

  /** The 1-based epoch a 1-based step falls in (step 0 counts as the first epoch). */
  epochOf(step: number): number {
    const { epochs, stepsPerEpoch } = this.s;
    return Math.min(epochs, Math.floor((Math.max(1, step) - 1) / stepsPerEpoch) + 1);
  }

  /** The training loss logged at `step`. */
  lossAt(step: number): number {
    if (this.s.nanAtStep !== null && step >= this.s.nanAtStep) return Number.NaN;
    const trend = 0.21 + 0.45 * Math.exp(-step / (this.s.stepsPerEpoch * 1.5));
    return Math.max(0.01, trend + this.s.random.between(-0.06, 0.06));
  }

  /** The learning rate at `step`: cosine decay from the configured rate to zero. */
  learningRateAt(step: number): number {
    return this.s.learningRate * 0.5 * (1 + Math.cos((Math.PI * step) / this.s.total));
  }
}
