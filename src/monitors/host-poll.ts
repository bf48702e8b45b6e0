import { randomBytes } from "node:crypto";
import type { Clock } from "../core/clock.ts";
import type { MonitorStore } from "../store/monitor-store.ts";
import { type HostProbeRunOutput, parseHostProbeOutput } from "./probe/host-probe-output.ts";
import { buildHostProbeScript, planHostProbe } from "./probe/host-probe-script.ts";
import type { PollReport, RunMonitor } from "./run-monitor.ts";

/** What {@link pollHost} needs besides the host's monitors. */
export interface HostPollOptions {
  store: MonitorStore;
  clock: Clock;
}

/**
 * Polls every run of one host with ONE probe over their shared transport: the host's facts
 * (GPUs, memory, kernel log, disk, the user's processes) are read once, each run's log and
 * process set in its own part of the same script. Each run's poll is still its own: its own
 * outcome (a run whose log is missing is that run's degraded poll), sample and poll record; all
 * are stored in one transaction. A probe that does not come back fails every run of the host.
 *
 * The monitors' log locks are held from reading their offsets until their polls are stored, so
 * two polls never interleave; a follow stream's read may be stored meanwhile, and the probe's
 * read then keeps only what it did not take (see RunMonitor.readLog).
 */
export async function pollHost(
  monitors: readonly RunMonitor[],
  options: HostPollOptions,
): Promise<PollReport[]> {
  // A run alone on its host, or one whose probe cannot join (a Slurm job), is probed alone.
  const alone = monitors.filter((m) => m.probesAlone || monitors.length === 1);
  const shared = monitors.filter((m) => !alone.includes(m));
  const [own, together] = await Promise.all([
    Promise.all(alone.map((m) => m.pollOnce())),
    probeTogether(shared, options),
  ]);
  return [...own, ...together];
}

/**
 * Splits monitors into the groups that share a probe: those whose `hostOf` is the same non-null
 * value (runs on one pooled connection), in their given order; every other monitor alone.
 */
export function groupByHost(
  monitors: readonly RunMonitor[],
  hostOf: (monitor: RunMonitor) => unknown,
): RunMonitor[][] {
  const groups: RunMonitor[][] = [];
  const byHost = new Map<unknown, RunMonitor[]>();
  for (const monitor of monitors) {
    const host = monitor.probesAlone ? null : hostOf(monitor);
    const group = host === null || host === undefined ? undefined : byHost.get(host);
    if (group) {
      group.push(monitor);
      continue;
    }
    const created = [monitor];
    groups.push(created);
    if (host !== null && host !== undefined) byHost.set(host, created);
  }
  return groups;
}

async function probeTogether(
  monitors: readonly RunMonitor[],
  options: HostPollOptions,
): Promise<PollReport[]> {
  const first = monitors[0];
  if (!first) return [];
  const releases: Array<() => void> = [];
  try {
    // In the given order, one at a time: two host polls never wait on each other's locks.
    for (const monitor of monitors) releases.push(await monitor.lockLog());
    const { store, clock } = options;
    const startedAt = clock.now();
    const nonce = randomBytes(12).toString("hex");
    const runs = monitors.map((monitor) => monitor.hostProbeRun());
    const plan = planHostProbe(runs);
    let parts: HostProbeRunOutput[];
    try {
      const result = await first.transport.run(buildHostProbeScript({ nonce, runs }), {
        timeoutMs: first.execTimeoutMs(),
      });
      parts = parseHostProbeOutput(result.stdout, nonce, plan);
    } catch (error) {
      parts = monitors.map(() => ({ ok: false, error: error as Error }));
    }
    return store.transaction(() =>
      monitors.map((monitor, i) => {
        const part = parts[i];
        return monitor.recordHostPoll(
          startedAt,
          part?.ok ? { output: part.output } : { failure: part?.error.message ?? "no output" },
        );
      }),
    );
  } finally {
    for (const release of releases) release();
  }
}
