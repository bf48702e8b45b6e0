import type { MonitorStore } from "../store/monitor-store.ts";
import { etaFromTotal } from "./parsers/progress-estimator.ts";

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
  }>;
  hostMemory: { usedBytes: number; totalBytes: number } | null;
  workers: { count: number; rssBytes: number } | null;
  lastError: { kind: string; line: string; at: string } | null;
}

/**
 * Reads a run's status from the store alone (no VM access). Progress figures come from the
 * newest reachable sample, so one failed poll does not blank them; `reachable` and
 * `lastPollAt` describe the newest poll.
 */
export function readRunStatus(store: MonitorStore, run: string): RunStatus {
  const latest = store.samples.latest(run);
  const good = latest?.reachable ? latest : store.samples.latestReachable(run);
  const lastPoll = store.polls.recent(run, 1)[0];
  const lastError = store.events.latestError(run);
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
    })),
    hostMemory: good?.hostMemory ?? null,
    workers: good?.workers ?? null,
    lastError: lastError
      ? { kind: lastError.kind, line: lastError.line, at: new Date(lastError.at).toISOString() }
      : null,
  };
}
