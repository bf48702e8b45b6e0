import type { RunConfig } from "../config/schema.ts";
import type { RunSample } from "../model/monitoring.ts";
import type { TimedStep } from "../store/steps-repo.ts";
import { parseMeminfo } from "./parsers/meminfo-parser.ts";
import { parseGpuQuery } from "./parsers/nvidia-smi-parser.ts";
import { estimateProgress, etaFromTotal } from "./parsers/progress-estimator.ts";
import { parseDfFreeBytes, parseUptime } from "./probe/probe-figures.ts";
import type { ProbeOutput } from "./probe/probe-output.ts";
import { type RunProcesses, selectRunProcesses } from "./run-processes.ts";

export interface BuildSampleInput {
  run: RunConfig;
  at: number;
  output: ProbeOutput;
  /** Recent step points of the run, oldest first (this poll's included). */
  recentSteps: readonly TimedStep[];
  /** The run's processes, when the caller has picked them already (see runProcessesOf). */
  processes?: RunProcesses | null;
}

/**
 * The run's own processes in one probe's output (see selectRunProcesses); null when the probe
 * could not list processes (no uptime to convert ticks).
 */
export function runProcessesOf(output: ProbeOutput, run: RunConfig): RunProcesses | null {
  const [clockTicks, pageSize] = output.units.split("\n").map((v) => Number(v.trim()));
  const uptime = parseUptime(output.uptime);
  // The probe's own shell is always listed: an empty listing means /proc could not be read.
  if (uptime === null || output.ps.trim() === "") return null;
  return selectRunProcesses(
    output,
    { uptime, clockTicks: clockTicks || 100, pageSize: pageSize || 4096 },
    { process: run.process, workerProcess: run.workerProcess },
  );
}

/**
 * Turns one probe's output into one sample. Tool failures (no GPU, no driver, ps missing)
 * leave their fields null rather than failing the poll: the rest is still worth storing.
 */
export function buildSample(input: BuildSampleInput): RunSample {
  const { run, at, output, recentSteps } = input;
  const gpus = parseGpuQuery(output.gpu.text);
  const processes = (input.processes ?? runProcessesOf(output, run))?.summary ?? null;
  const latest = recentSteps[recentSteps.length - 1] ?? null;
  const progress = estimateProgress(
    recentSteps.map((p) => ({
      at: p.at,
      step: p.step,
      epoch: p.epoch,
      total: p.total,
      perEpoch: p.perEpoch ?? null,
    })),
    {
      perEpoch: run.steps.perEpoch,
      epochs: run.steps.epochs,
      reportedStepTime: latest?.stepTime ?? null,
    },
  );
  const totalSteps =
    run.steps.perEpoch && run.steps.epochs
      ? run.steps.perEpoch * run.steps.epochs
      : (latest?.total ?? null);
  return {
    run: run.name,
    at,
    reachable: true,
    alive: processes ? processes.alive : null,
    step: latest?.step ?? null,
    totalSteps,
    epoch: latest?.epoch ?? null,
    loss: latest?.loss ?? null,
    stepTimeSeconds: progress.stepTimeSeconds,
    stepsPerHour: progress.stepsPerHour,
    stepTimeObserved:
      progress.stepTimeSeconds !== null && !(latest?.stepTime != null && latest.stepTime > 0),
    etaSeconds:
      progress.etaSeconds ??
      etaFromTotal(totalSteps, latest?.step ?? null, progress.stepTimeSeconds),
    epochEtaSeconds: progress.epochEtaSeconds,
    gpus: gpus.ok ? gpus.value : [],
    hostMemory: (() => {
      const memory = parseMeminfo(output.meminfo);
      return memory ? { usedBytes: memory.usedBytes, totalBytes: memory.totalBytes } : null;
    })(),
    workers: processes ? processes.workers : null,
    trainerRssBytes: processes?.trainer?.rssBytes ?? null,
    diskFreeBytes: parseDfFreeBytes(output.disk),
  };
}
