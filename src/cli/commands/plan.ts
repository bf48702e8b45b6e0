import { CONFIG_OPTION_HELP, defaultConfigPath } from "../config-path.ts";
import { formatPlanView, pickRun, runOperationCommand } from "../operation-cli.ts";
import type { RegisterCommand } from "./command.ts";

/** `trainops plan [--run R] [--json]`: the plan, where the run stands, and the results table. */
export const registerPlan: RegisterCommand = (program, setExitCode) => {
  program
    .command("plan")
    .description("Show the run's phase plan, where it stands, and each phase's results")
    .option("-r, --run <name>", "the run (needed when several are configured)")
    .option("-c, --config <file>", CONFIG_OPTION_HELP, defaultConfigPath())
    .option("--json", "print the plan view as JSON")
    .action(async (options: { run?: string; config: string; json?: boolean }) => {
      await runOperationCommand(options.config, setExitCode, async (cli) => {
        const view = await cli.ops.plan(pickRun(cli.config, options.run));
        process.stdout.write(
          options.json ? `${JSON.stringify(view, null, 2)}\n` : formatPlanView(view),
        );
        return 0;
      });
    });
};
