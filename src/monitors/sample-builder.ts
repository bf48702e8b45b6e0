import type { RunConfig } from "../config/schema.ts";
import type { RunSample } from "../model/monitoring.ts";
import type { TimedStep } from "../store/steps-repo.ts";
import { parseMeminfo } from "./parsers/meminfo-parser.ts";
import { parseGpuQuery } from "./parsers/nvidia-smi-parser.ts";
import { parseProcessTable } from "./parsers/process-table.ts";
import { estimateProgress, etaFromTotal } from "./parsers/progress-estimator.ts";
import { parseDfFreeBytes, parseUptime } from "./probe/probe-figures.ts";
import type { ProbeOutput } from "./probe/probe-output.ts";
import { cmdlineMatchesToArgsLines, procStatToPsLines } from "./probe/proc-stat.ts";

export interface BuildSampleInput {
  run: RunConfig;
  at: number;
  output: ProbeOutput;
  /** Recent step points of the run, oldest first (this poll's included). */
  recentSteps: readonly TimedStep[];
}

/**
 * Turns one probe's output into one sample. Tool failures (no GPU, no driver, ps missing)
 * leave their fields null rather than failing the poll: the rest is still worth storing.
 */
export function buildSample(input: BuildSampleInput): RunSample {
  const { run, at, output, recentSteps } = input;
  const gpus = parseGpuQuery(output.gpu.text);
  const [clockTicks, pageSize] = output.units.split("\n").map((v) => Number(v.trim()));
  const uptime = parseUptime(output.uptime);
  const psLines =
    uptime === null
      ? ""
      : procStatToPsLines(output.ps, {
          uptime,
          clockTicks: clockTicks || 100,
          pageSize: pageSize || 4096,
        });
  // Only processes that existed when /proc was listed: the probe's own grep matches the
  // pattern in its command line and would otherwise pass for a live trainer.
  const listed = new Set(psLines.split("\n").map((line) => line.split(" ", 1)[0]));
  const argsLines = cmdlineMatchesToArgsLines(output.args)
    .split("\n")
    .filter((line) => listed.has(line.split(" ", 1)[0]))
    .join("\n");
  const processes =
    psLines === ""
      ? null
      : parseProcessTable(psLines, argsLines, {
          process: run.process,
          workerProcess: run.workerProcess,
        });
  const latest = recentSteps[recentSteps.length - 1] ?? null;
  const progress = estimateProgress(
    recentSteps.map((p) => ({ at: p.at, step: p.step, epoch: p.epoch, total: p.total })),
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
