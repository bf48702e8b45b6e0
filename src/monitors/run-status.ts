import type { RunConfig } from "../config/schema.ts";
import { type RunCost, runCost } from "../model/run-cost.ts";
import { remainingSteps, trainingProgress } from "../model/training-progress.ts";
import type { MonitorStore } from "../store/monitor-store.ts";
import { etaFromTotal } from "./parsers/progress-estimator.ts";
import { readSlurmStatus, type SlurmRunStatus } from "./slurm/slurm-status.ts";

/** The latest known state of one run, as `trainops status --json` prints it (a contract). */
export interface RunStatus {
  name: string;
  step: number | null;
  totalSteps: number | null;
  epoch: number | null;
  stepTimeSeconds: number | null;
  stepsPerHour: number | null;
  /** The step time is the monitor's own measure from arrival times (the log prints none). */
  stepTimeObserved: boolean;
  etaSeconds: number | null;
  alive: boolean | null;
  reachable: boolean | null;
  lastPollAt: string | null;
  gpus: Array<{
    index: number;
    name: string;
    memoryUsedMiB: number | null;
    memoryTotalMiB: number | null;
    utilizationPercent: number | null;
    /** The node, for a Slurm job on several nodes. */
    node?: string;
  }>;
  hostMemory: { usedBytes: number; totalBytes: number } | null;
  workers: { count: number; rssBytes: number } | null;
  lastError: { kind: string; line: string; at: string } | null;
  /** The run's Slurm job, for runs that name one. */
  slurm?: SlurmRunStatus;
  /**
   * With `cost:` on the run: the price, the cost since the first sample and the cost of the
   * steps left at the current step time (`soFar`/`toFinish` null when unknown); else null.
   */
  cost: RunCost | null;
}

/** What the status reads besides the store: the run's config (steps, cost) and the time. */
export interface RunStatusContext {
  run?: Pick<RunConfig, "steps" | "cost">;
  now?: number;
}

/**
 * Reads a run's status from the store alone (no VM access). Progress figures come from the
 * newest reachable sample, so one failed poll does not blank them; `reachable` and
 * `lastPollAt` describe the newest poll.
 */
export function readRunStatus(
  store: MonitorStore,
  run: string,
  context: RunStatusContext = {},
): RunStatus {
  const latest = store.samples.latest(run);
  const good = latest?.reachable ? latest : store.samples.latestReachable(run);
  const lastPoll = store.polls.recent(run, 1)[0];
  const lastError = store.events.latestError(run);
  const slurm = store.slurmJobs ? readSlurmStatus(store.slurmJobs, run) : null;
  return {
    ...statusFields(run, latest, good, lastPoll, lastError),
    cost: statusCost(store, run, good, context),
    ...(slurm ? { slurm } : {}),
  };
}

function statusCost(
  store: MonitorStore,
  run: string,
  good: ReturnType<MonitorStore["samples"]["latest"]>,
  context: RunStatusContext,
): RunCost | null {
  if (!context.run?.cost) return null;
  const first = store.samples.firstAt(run);
  const now = context.now ?? Date.now();
  let remaining: number | null = good?.etaSeconds ?? null;
  const stepTime = good?.stepTimeSeconds ?? (good?.stepsPerHour ? 3600 / good.stepsPerHour : null);
  if (good && stepTime) {
    const left = remainingSteps(trainingProgress(context.run, good));
    if (left !== null) remaining = left * stepTime;
  }
  return runCost(context.run.cost, first === null ? null : (now - first) / 1000, remaining);
}

function statusFields(
  run: string,
  latest: ReturnType<MonitorStore["samples"]["latest"]>,
  good: ReturnType<MonitorStore["samples"]["latest"]>,
  lastPoll: ReturnType<MonitorStore["polls"]["recent"]>[number] | undefined,
  lastError: ReturnType<MonitorStore["events"]["latestError"]>,
): Omit<RunStatus, "cost" | "slurm"> {
  return {
    name: run,
    step: good?.step ?? null,
    totalSteps: good?.totalSteps ?? null,
    epoch: good?.epoch ?? null,
    stepTimeSeconds: good?.stepTimeSeconds ?? null,
    stepsPerHour: good?.stepsPerHour ?? null,
    stepTimeObserved: good?.stepTimeObserved ?? false,
    etaSeconds:
      good?.etaSeconds ?? etaFromTotal(good?.totalSteps, good?.step, good?.stepTimeSeconds),
    alive: latest?.reachable ? latest.alive : null,
    reachable: latest ? latest.reachable : null,
    lastPollAt: lastPoll ? new Date(lastPoll.startedAt).toISOString() : null,
    gpus: (good?.gpus ?? []).map((gpu) => ({
      index: gpu.index,
      name: gpu.name,
      memoryUsedMiB: gpu.memoryUsedMiB,
      memoryTotalMiB: gpu.memoryTotalMiB,
      utilizationPercent: gpu.utilizationPercent,
      ...(gpu.node !== undefined ? { node: gpu.node } : {}),
    })),
    hostMemory: good?.hostMemory ?? null,
    workers: good?.workers ?? null,
    lastError: lastError
      ? { kind: lastError.kind, line: lastError.line, at: new Date(lastError.at).toISOString() }
      : null,
  };
}
