import { linePatternsFor } from "../alerts/rules/pattern.ts";
import type { Config, RunConfig } from "../config/schema.ts";
import type { Clock } from "../core/clock.ts";
import type { ClassifiedEvent } from "../model/monitoring.ts";
import { RunMonitor } from "../monitors/run-monitor.ts";
import type { Db } from "../store/database.ts";
import { createMonitorStore, type MonitorStore } from "../store/monitor-store.ts";
import type { Transport } from "../transport/transport.ts";

export interface MonitoringOptions {
  config: Config;
  db: Db;
  clock: Clock;
  /** Builds the transport of a run; one per run, reused for every poll and follow stream. */
  transportFor: (run: RunConfig) => Transport;
  onFollowEvents?: (run: string, events: ClassifiedEvent[]) => void;
  onFollowError?: (run: string, error: Error) => void;
}

/** One monitor per configured run, over one transport each. */
export interface Monitoring {
  store: MonitorStore;
  monitors: Map<string, RunMonitor>;
  transports: Map<string, Transport>;
  /** The run config by name; throws a message listing the runs when unknown. */
  runConfig(name: string): RunConfig;
  close(): Promise<void>;
}

/** Raised for a run name that is not in the config. */
export class UnknownRunError extends Error {
  override readonly name = "UnknownRunError";
}

/** Builds the monitors of every run in the config. Connections open lazily, on first use. */
export function createMonitoring(options: MonitoringOptions): Monitoring {
  const store = createMonitorStore(options.db);
  const monitors = new Map<string, RunMonitor>();
  const transports = new Map<string, Transport>();
  for (const run of options.config.runs) {
    const transport = options.transportFor(run);
    transports.set(run.name, transport);
    monitors.set(
      run.name,
      new RunMonitor({
        run,
        transport,
        store,
        clock: options.clock,
        onFollowEvents: options.onFollowEvents,
        onFollowError: options.onFollowError,
        patterns: linePatternsFor(options.config, run.name),
      }),
    );
  }
  return {
    store,
    monitors,
    transports,
    runConfig: (name) => {
      const run = options.config.runs.find((r) => r.name === name);
      if (!run) {
        const names = options.config.runs.map((r) => r.name).join(", ");
        throw new UnknownRunError(`no run named '${name}'; runs: ${names}`);
      }
      return run;
    },
    close: async () => {
      await Promise.allSettled([...monitors.values()].map((m) => m.stopFollow()));
      await Promise.allSettled([...transports.values()].map((t) => t.close()));
    },
  };
}
