import { confirmAndApply, pickRun, runOperationCommand } from "../operation-cli.ts";
import type { RegisterCommand } from "./command.ts";

/** `trainops rollback --run R [--yes]`: restore the last passed config and restart. */
export const registerRollback: RegisterCommand = (program, setExitCode) => {
  program
    .command("rollback")
    .description("Restore the training config of the last passed phase and restart training")
    .option("-r, --run <name>", "the run (needed when several are configured)")
    .option("-c, --config <file>", "configuration file", "trainops.yaml")
    .option("--dry-run", "show what would change, change nothing")
    .option("-y, --yes", "apply without asking")
    .action(async (options: { run?: string; config: string; dryRun?: boolean; yes?: boolean }) => {
      await runOperationCommand(options.config, setExitCode, async (cli) => {
        const preview = await cli.ops.previewRollback(pickRun(cli.config, options.run));
        return confirmAndApply(cli, preview, options);
      });
    });
};
