import { addChangeOptions, type ChangeOptions, previewAndApply } from "../operation-cli.ts";
import type { RegisterCommand } from "./command.ts";

/** `trainops rollback --run R [--yes]`: restore the last passed config and restart. */
export const registerRollback: RegisterCommand = (program, setExitCode) => {
  addChangeOptions(
    program
      .command("rollback")
      .description("Restore the training config of the last passed phase and restart training"),
  ).action((options: ChangeOptions) =>
    previewAndApply(options, setExitCode, (ops, run) => ops.preview("rollback", run)),
  );
};
