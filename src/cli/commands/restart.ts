import type { RunConfig } from "../../config/schema.ts";
import { listRunProcesses } from "../../monitors/run-process-list.ts";
import { describeProcessScope, describeRunProcess } from "../../monitors/run-processes.ts";
import { withCliRuntime } from "../cli-runtime.ts";
import {
  addChangeOptions,
  type ChangeOptions,
  formatPreview,
  pickRun,
  previewAndApply,
  runOperationCommand,
} from "../operation-cli.ts";
import type { RegisterCommand } from "./command.ts";

/**
 * `trainops restart --run R [--yes | --dry-run]`: stop training gracefully and start it again.
 * `--dry-run` shows the processes the stop would signal and changes nothing.
 */
export const registerRestart: RegisterCommand = (program, setExitCode) => {
  addChangeOptions(
    program
      .command("restart")
      .description("Stop training (SIGINT, SIGTERM, SIGKILL) and start it again with start:"),
  ).action((options: ChangeOptions) =>
    options.dryRun
      ? runOperationCommand(options.config, setExitCode, async (cli) => {
          const preview = await cli.ops.preview("restart", pickRun(cli.config, options.run));
          process.stdout.write(formatPreview(preview));
          return withCliRuntime(options.config, async (runtime) => {
            const run = runtime.monitoring.runConfig(preview.run);
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
        })
      : previewAndApply(options, setExitCode, (ops, run) => ops.preview("restart", run)),
  );
};

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
