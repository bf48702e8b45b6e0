import { CONFIG_OPTION_HELP, defaultConfigPath } from "../config-path.ts";
import { cliActor, pickRun, runOperationCommand } from "../operation-cli.ts";
import type { RegisterCommand } from "./command.ts";

/**
 * `trainops unlock --run R`: removes the run's change lock whoever holds it, audited. A lock
 * whose holder died is taken over by the next change on its own; this is for a holder on another
 * machine that will not come back. An interrupted change is recovered by the next change or poll.
 */
export const registerUnlock: RegisterCommand = (program, setExitCode) => {
  program
    .command("unlock")
    .description("Remove a run's change lock (its holder is gone for good); audited")
    .option("-r, --run <name>", "the run (needed when several are configured)")
    .option("-c, --config <file>", CONFIG_OPTION_HELP, defaultConfigPath())
    .action((options: { run?: string; config: string }) =>
      runOperationCommand(options.config, setExitCode, async (cli) => {
        const run = pickRun(cli.config, options.run);
        const removed = cli.ops.unlock(run, cliActor());
        if (!removed) {
          process.stdout.write(`${run} was not locked; nothing to do.\n`);
          return 0;
        }
        process.stdout.write(
          `Removed ${run}'s lock, held by ${removed.holderName} for ${removed.operation} since ${new Date(removed.acquiredAt).toISOString()}.\n` +
            "An interrupted change is rolled forward or back by the next change or poll.\n",
        );
        return 0;
      }),
    );
};
