import { confirmAndApply, pickRun, runOperationCommand } from "../operation-cli.ts";
import type { RegisterCommand } from "./command.ts";

/** `trainops next-phase --run R [--dry-run] [--yes]`: apply the plan's next phase and restart. */
export const registerNextPhase: RegisterCommand = (program, setExitCode) => {
  program
    .command("next-phase")
    .description("Apply the plan's next phase to the training config and restart training")
    .option("-r, --run <name>", "the run (needed when several are configured)")
    .option("-c, --config <file>", "configuration file", "trainops.yaml")
    .option("--dry-run", "show what would change, change nothing")
    .option("-y, --yes", "apply without asking")
    .action(async (options: { run?: string; config: string; dryRun?: boolean; yes?: boolean }) => {
      await runOperationCommand(options.config, setExitCode, async (cli) => {
        const preview = await cli.ops.previewNextPhase(pickRun(cli.config, options.run));
        return confirmAndApply(cli, preview, options);
      });
    });
};
