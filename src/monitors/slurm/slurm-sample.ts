import type { RunConfig } from "../../config/schema.ts";
import type { RunSample } from "../../model/monitoring.ts";
import type { SlurmJob } from "../../model/slurm-job.ts";
import type { SlurmJobsRepo } from "../../store/slurm-jobs-repo.ts";
import { parseNodeGpuRows } from "./node-gpu-rows.ts";
import {
  buildSlurmPrelude,
  NODE_SMI_FUNCTION,
  parseSlurmSections,
  slurmJobFromSections,
} from "./slurm-probe-section.ts";

/** What a Slurm run adds to the probe request. */
export interface SlurmProbeParts {
  prelude: string;
  /** Replaces the run's nvidia-smi: the per-node srun step. */
  nvidiaSmi: string;
}

/** The probe additions of a Slurm run, following the newest job the store knows. */
export function slurmProbeParts(
  run: RunConfig,
  jobs: SlurmJobsRepo | undefined,
  mark: string,
): SlurmProbeParts | null {
  if (!run.slurm) return null;
  return {
    prelude: buildSlurmPrelude({
      slurm: run.slurm,
      knownJobId: jobs?.current(run.name)?.job.jobId ?? null,
      nvidiaSmi: run.nvidiaSmi,
      logFromJob: run.log === undefined,
      mark,
    }),
    nvidiaSmi: NODE_SMI_FUNCTION,
  };
}

/** Reads the job out of a probe's stdout; null when the probe found none. */
export function readSlurmJob(stdout: Buffer, mark: string, now: number): SlurmJob | null {
  const sections = parseSlurmSections(stdout, mark);
  return sections ? slurmJobFromSections(sections, now) : null;
}

/**
 * A Slurm run's sample: alive means the job is RUNNING (the login node's process table says
 * nothing about it), GPUs are those of every node, and login-node process figures are dropped.
 */
export function applySlurmToSample(
  sample: RunSample,
  job: SlurmJob | null,
  gpuText: string,
): RunSample {
  const running = job?.state === "RUNNING";
  return {
    ...sample,
    alive: job ? running : null,
    gpus: running ? parseNodeGpuRows(gpuText).gpus : [],
    workers: null,
    trainerRssBytes: null,
  };
}
