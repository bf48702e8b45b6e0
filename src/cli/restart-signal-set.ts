import type { RunConfig } from "../config/schema.ts";
import { listRunProcesses } from "../monitors/run-process-list.ts";
import { describeProcessScope, describeRunProcess } from "../monitors/run-processes.ts";
import { withCliRuntime } from "./cli-runtime.ts";

/**
 * What `trainops restart --dry-run` would signal on the run's VM, read over SSH: the lines to
 * print and the exit code. Loaded only by that command, so `trainops --help` and every other
 * command start without the store, the sinks and the SSH client.
 */
export async function printRestartSignalSet(configPath: string, runName: string): Promise<number> {
  return withCliRuntime(configPath, async (runtime) => {
    const run = runtime.monitoring.runConfig(runName);
    const transport = runtime.monitoring.transports.get(run.name);
    if (!transport) return 1;
    try {
      process.stdout.write(await signalSetText(run, transport));
      return 0;
    } catch (error) {
      process.stderr.write(`trainops: ${(error as Error).message}\n`);
      return 1;
    }
  });
}

async function signalSetText(
  run: RunConfig,
  transport: Parameters<typeof listRunProcesses>[0],
): Promise<string> {
  const processes = await listRunProcesses(transport, run);
  const scope = describeProcessScope(processes.scope);
  if (processes.tree.length === 0) {
    return `  would signal nothing: training is not running (looked for '${run.process}' among ${scope})\n`;
  }
  return [
    `  would signal (${scope}), SIGINT then SIGTERM then SIGKILL:`,
    ...processes.tree.map((p) => `    ${describeRunProcess(p)}`),
    "",
  ].join("\n");
}
