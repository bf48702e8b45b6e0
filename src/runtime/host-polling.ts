import type { Clock } from "../core/clock.ts";
import { groupByHost, pollHost } from "../monitors/host-poll.ts";
import type { PollReport, RunMonitor } from "../monitors/run-monitor.ts";
import type { MonitorStore } from "../store/monitor-store.ts";
import { sharedConnectionOf } from "../transport/host-transport-pool.ts";

/** How runs of one host are polled together: the scheduler's `hosts` option. */
export interface HostPolling {
  /** The pooled connection a run's transport shares; null when it shares none. */
  of: (monitor: RunMonitor) => unknown;
  /** One probe for the runs of one host. */
  poll: (monitors: RunMonitor[]) => Promise<PollReport[]>;
  /** Polls every given run once, one probe per host, the hosts at once. */
  pollAll: (monitors: readonly RunMonitor[]) => Promise<PollReport[]>;
}

/**
 * Runs whose transports are handles on one pooled connection (same `ssh:` settings) are one
 * host: polled by one probe that reads the host's GPUs, memory, kernel log and disk once.
 */
export function hostPolling(store: MonitorStore, clock: Clock): HostPolling {
  const of = (monitor: RunMonitor) => sharedConnectionOf(monitor.transport);
  const poll = (monitors: RunMonitor[]) => pollHost(monitors, { store, clock });
  return {
    of,
    poll,
    pollAll: async (monitors) =>
      (await Promise.all(groupByHost(monitors, of).map((group) => poll(group)))).flat(),
  };
}
