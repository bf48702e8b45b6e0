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
          const { printRestartSignalSet } = await import("../restart-signal-set.ts");
          return printRestartSignalSet(options.config, preview.run);
        })
      : previewAndApply(options, setExitCode, (ops, run) => ops.preview("restart", run)),
  );
};
