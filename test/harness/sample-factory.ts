import type { GpuSample, RunSample } from "../../src/model/monitoring.ts";

const GIB = 1024 ** 3;

/** One GPU as nvidia-smi reports it: an 80 GB A100 at 77 GiB and 85 % busy, with overrides. */
export function gpuSample(over: Partial<GpuSample> = {}): GpuSample {
  return {
    index: 0,
    name: "NVIDIA A100-SXM4-80GB",
    memoryUsedMiB: 77 * 1024,
    memoryTotalMiB: 81920,
    utilizationPercent: 85,
    temperatureC: 60,
    powerW: 250,
    ...over,
  };
}

/**
 * The test suite's one sample factory: a healthy poll of exp001 at step 549 like the user's
 * plan (18 s/step, one GPU from {@link gpuSample}, 40 of 128 GiB host RAM, one worker of 7 GiB),
 * with `over` replacing any field. Fixtures pass their own differences as overrides.
 */
export function runSample(over: Partial<RunSample> & { at: number }): RunSample {
  return {
    run: "exp001",
    reachable: true,
    alive: true,
    step: 549,
    totalSteps: null,
    epoch: 1,
    loss: 0.41,
    stepTimeSeconds: 18,
    stepsPerHour: 200,
    etaSeconds: null,
    epochEtaSeconds: null,
    gpus: [gpuSample()],
    hostMemory: { usedBytes: 40 * GIB, totalBytes: 128 * GIB },
    workers: { count: 1, rssBytes: 7 * GIB },
    trainerRssBytes: 12 * GIB,
    diskFreeBytes: 200 * GIB,
    ...over,
  };
}
