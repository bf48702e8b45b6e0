import { loadConfig } from "../config/load-config.ts";
import type { Config } from "../config/schema.ts";
import { systemClock } from "../core/clock.ts";
import { createMonitoring, type Monitoring } from "../runtime/monitoring.ts";
import { type Db, openDatabase } from "../store/database.ts";
import { HostTransportPool } from "../transport/host-transport-pool.ts";

/** What a one-shot CLI command works with. */
export interface CliRuntime {
  config: Config;
  db: Db;
  monitoring: Monitoring;
  close(): Promise<void>;
}

/** Loads the config (ConfigError → exit 2 in main) and opens the store and transports. */
export function openCliRuntime(configPath: string): CliRuntime {
  const config = loadConfig(configPath);
  const db = openDatabase(config.store);
  // Runs on the same host share one connection and remote shell.
  const hosts = new HostTransportPool();
  const monitoring = createMonitoring({
    config,
    db,
    clock: systemClock,
    transportFor: (run) => hosts.get(run),
  });
  return {
    config,
    db,
    monitoring,
    close: async () => {
      await monitoring.close();
      db.close();
    },
  };
}

/** Opens the runtime, runs `body` with it, and closes it however `body` ends. */
export async function withCliRuntime<T>(
  configPath: string,
  body: (runtime: CliRuntime) => Promise<T>,
): Promise<T> {
  const runtime = openCliRuntime(configPath);
  try {
    return await body(runtime);
  } finally {
    await runtime.close();
  }
}

/** Runs the given run, or every run when none is named. */
export function selectRuns(runtime: CliRuntime, name: string | undefined): string[] {
  if (name === undefined) return runtime.config.runs.map((r) => r.name);
  return [runtime.monitoring.runConfig(name).name];
}
