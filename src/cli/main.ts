import { ConfigError } from "../config/config-error.ts";
import { buildInfo } from "../daemon/build-info.ts";
import { examplesHelp } from "./command-examples.ts";
import { Command, CommanderError } from "./commander.ts";
import { COMMANDS } from "./commands/index.ts";

/**
 * Runs the `trainops` command line and resolves to the exit code: 0 done, 1 failed,
 * 2 bad configuration or usage.
 */
export async function main(argv: string[]): Promise<number> {
  const program = new Command("trainops")
    .description("Run the operations of long GPU training jobs from chat or a terminal.")
    .version(buildInfo().version, "-V, --version", "print the trainops version")
    .exitOverride()
    .showHelpAfterError();
  let exitCode = 0;
  for (const register of COMMANDS) {
    register(program, (code) => {
      exitCode = code;
    });
  }
  for (const command of program.commands) {
    const examples = examplesHelp(command.name());
    if (examples) command.addHelpText("after", examples);
  }
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    process.stderr.write(`trainops: ${(error as Error).message}\n`);
    return 1;
  }
  return exitCode;
}
