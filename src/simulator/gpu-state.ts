import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "./atomic-file.ts";
import type { SeededRandom } from "./seeded-random.ts";

/** The GPU as the fake nvidia-smi reports it while the simulator runs. */
export interface GpuState {
  /** The training process, listed under compute apps. */
  pid: number;
  memoryUsedMiB: number;
  memoryTotalMiB: number;
  utilizationPercent: number;
  temperatureC: number;
  powerW: number;
  /** The process's own share of memory.used. */
  processMemoryMiB: number;
}

/** File in the state dir holding one line: pid used total util temp power procmem. */
export const GPU_STATE_FILE = "gpu";
/** File in the state dir holding the simulator's whole state as JSON (tests, the demo). */
export const SIM_STATE_FILE = "sim.json";

/**
 * Publishes the simulated GPU for the fake nvidia-smi. The line format is what a POSIX `read`
 * splits, so the fake answers without parsing JSON or starting an interpreter.
 */
export class GpuStateWriter {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  write(state: GpuState): void {
    const fields = [
      state.pid,
      Math.round(state.memoryUsedMiB),
      Math.round(state.memoryTotalMiB),
      Math.round(state.utilizationPercent),
      Math.round(state.temperatureC),
      state.powerW.toFixed(2),
      Math.round(state.processMemoryMiB),
    ];
    writeFileAtomic(join(this.dir, GPU_STATE_FILE), `${fields.join(" ")}\n`);
  }

  /** Whole simulator state, for tests and the demo (not read by the fake nvidia-smi). */
  writeSimState(state: Record<string, unknown>): void {
    writeFileAtomic(join(this.dir, SIM_STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
  }

  /** The process is gone: the GPU is idle again. */
  clear(): void {
    rmSync(join(this.dir, GPU_STATE_FILE), { force: true });
  }
}

/**
 * One nvidia-smi reading of the simulated A100: the modelled memory and mean utilisation with
 * a little measurement noise; temperature and power follow the load.
 */
export function sampleGpu(input: {
  pid: number;
  vramGiB: number;
  totalGiB: number;
  utilPercent: number;
  random: SeededRandom;
}): GpuState {
  const totalMiB = input.totalGiB * 1024;
  const usedMiB = Math.min(totalMiB, input.random.jitter(input.vramGiB * 1024, 0.001));
  const util =
    input.utilPercent > 0
      ? Math.min(100, Math.max(0, input.utilPercent + input.random.between(-3, 3)))
      : 0;
  return {
    pid: input.pid,
    memoryUsedMiB: usedMiB,
    memoryTotalMiB: totalMiB,
    utilizationPercent: util,
    temperatureC: 33 + 0.4 * util,
    powerW: 62 + 3.2 * util + input.random.between(-2, 2),
    processMemoryMiB: Math.max(0, usedMiB - 4),
  };
}
