import { confirmAndApply, pickRun, runOperationCommand } from "../operation-cli.ts";
import type { RegisterCommand } from "./command.ts";

/** `trainops restart --run R [--yes]`: stop training gracefully and start it again. */
export const registerRestart: RegisterCommand = (program, setExitCode) => {
  program
    .command("restart")
    .description("Stop training (SIGINT, SIGTERM, SIGKILL) and start it again with start:")
    .option("-r, --run <name>", "the run (needed when several are configured)")
    .option("-c, --config <file>", "configuration file", "trainops.yaml")
    .option("-y, --yes", "apply without asking")
    .action(async (options: { run?: string; config: string; yes?: boolean }) => {
      await runOperationCommand(options.config, setExitCode, async (cli) => {
        const preview = await cli.ops.previewRestart(pickRun(cli.config, options.run));
        return confirmAndApply(cli, preview, options);
      });
    });
};
