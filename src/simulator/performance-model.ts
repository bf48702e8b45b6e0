/**
 * How the simulated job responds to its configuration. Calibrated on the user's plan: one
 * worker at batch 1 is data-bound at ~18 s/step with the GPU nearly idle; more workers feed
 * the GPU faster until the VM's CPUs saturate; a bigger batch costs little extra GPU time and
 * a little VRAM, until batch 8 no longer fits in 80 GiB.
 */

/** The training settings the model depends on. */
export interface TrainingSettings {
  workers: number;
  batchSize: number;
  persistentWorkers: boolean;
}

/** What one step of the job costs, in simulated (uncompressed) units. */
export interface StepCost {
  /** Seconds per optimizer step. */
  stepSeconds: number;
  /** Seconds of that step the GPU computes. */
  gpuSeconds: number;
  /** Seconds of that step spent waiting for data beyond the GPU time. */
  dataWaitSeconds: number;
  /** Steady-state GPU memory the process holds, GiB. */
  vramGiB: number;
  /** Resident memory of one data-loader worker, GiB. */
  workerRamGiB: number;
  /** Resident memory of the trainer process itself, GiB. */
  trainerRamGiB: number;
  /** Trainer plus all workers, GiB. */
  hostRamGiB: number;
  /** Mean GPU utilisation over a step, percent. */
  gpuUtilPercent: number;
}

/** Seconds of CPU-side loading and augmentation one worker needs per step at batch 1. */
const DATA_SECONDS_PER_WORKER = 17;
/** Workers beyond this add nothing: the VM's CPUs are saturated (the plan's "6 = 50% of CPUs"). */
const WORKER_SATURATION = 6;
/** Loading in the main process (workers: 0) is a little slower than one worker process. */
const MAIN_PROCESS_LOADING = 0.9;
/** Persistent workers skip per-epoch re-creation and keep their caches warm. */
const PERSISTENT_SPEEDUP = 0.97;

/** Effective parallel loaders for a worker count. */
export function effectiveWorkers(workers: number): number {
  if (workers <= 0) return MAIN_PROCESS_LOADING;
  if (workers <= WORKER_SATURATION) return workers;
  // Past saturation, extra workers only contend for the same CPUs.
  return WORKER_SATURATION + 0.1 * Math.log2(workers / WORKER_SATURATION);
}

/** GPU compute seconds for one step at a batch size. */
export function gpuSeconds(batchSize: number): number {
  return 0.8 + 0.2 * batchSize;
}

/** Steady-state VRAM in GiB: ~77 at batch 1, 77.5 at 2, 78.4 at 4, over 80 at 8. */
export function vramGiB(batchSize: number): number {
  return 76.55 + 0.47 * batchSize;
}

/** Computes the cost of one step for a configuration. */
export function stepCost(settings: TrainingSettings): StepCost {
  const batch = Math.max(1, settings.batchSize);
  const gpu = gpuSeconds(batch);
  // The plan expects the time to deliver a step's data to fall with batch size (the
  // serialized distance transform is amortised over the batch), so data time divides by it.
  let data = DATA_SECONDS_PER_WORKER / (effectiveWorkers(settings.workers) * batch);
  if (settings.persistentWorkers) data *= PERSISTENT_SPEEDUP;
  const stepSeconds = gpu + data;
  const workerRamGiB = 6.75 + 0.25 * batch;
  const trainerRamGiB = 9 + 0.1 * batch;
  return {
    stepSeconds,
    gpuSeconds: gpu,
    dataWaitSeconds: data,
    vramGiB: vramGiB(batch),
    workerRamGiB,
    trainerRamGiB,
    hostRamGiB: trainerRamGiB + Math.max(0, settings.workers) * workerRamGiB,
    gpuUtilPercent: (100 * gpu) / stepSeconds,
  };
}
