import { completionScript, SHELLS, type Shell } from "../shell-completion.ts";
import type { RegisterCommand } from "./command.ts";

/** `trainops completion bash|zsh|fish`: prints a shell completion script. */
export const registerCompletion: RegisterCommand = (program, setExitCode) => {
  program
    .command("completion")
    .description("Print a shell completion script (bash, zsh or fish)")
    .argument("<shell>", SHELLS.join(", "))
    .action((shell: string) => {
      if (!(SHELLS as readonly string[]).includes(shell)) {
        process.stderr.write(
          `trainops completion: unknown shell '${shell}'; use ${SHELLS.join(", ")}\n`,
        );
        setExitCode(2);
        return;
      }
      process.stdout.write(completionScript(program, shell as Shell));
    });
};
