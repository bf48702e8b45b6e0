import { dirname, resolve } from "node:path";
import type { TextStream } from "../alerts/sinks/console-sink.ts";
import { loadConfig } from "../config/load-config.ts";
import { createConfiguredSinks } from "../runtime/create-sinks.ts";
import { openProduct, type Product } from "../runtime/product.ts";

/** What a one-shot CLI command works with: the whole product over the configured store. */
export type CliRuntime = Product;

/**
 * Loads the config (ConfigError → exit 2 in main) and opens the product: store, transports,
 * monitors, alerting and operations, as the daemon has them. Alerts it delivers itself (as
 * `poll --once` does) are written to `alertStream` when the console sink is on.
 */
export function openCliRuntime(
  configPath: string,
  options: { alertStream?: TextStream } = {},
): CliRuntime {
  const config = loadConfig(configPath);
  return openProduct({
    config,
    configDir: dirname(resolve(configPath)),
    sinks: createConfiguredSinks(config, { stream: options.alertStream ?? process.stdout }),
  });
}

/** Opens the runtime, runs `body` with it, and closes it however `body` ends. */
export async function withCliRuntime<T>(
  configPath: string,
  body: (runtime: CliRuntime) => Promise<T>,
  options: { alertStream?: TextStream } = {},
): Promise<T> {
  const runtime = openCliRuntime(configPath, options);
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
