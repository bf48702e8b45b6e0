import { addChangeOptions, type ChangeOptions, previewAndApply } from "../operation-cli.ts";
import type { RegisterCommand } from "./command.ts";

/** `trainops restart --run R [--yes]`: stop training gracefully and start it again. */
export const registerRestart: RegisterCommand = (program, setExitCode) => {
  addChangeOptions(
    program
      .command("restart")
      .description("Stop training (SIGINT, SIGTERM, SIGKILL) and start it again with start:"),
    { dryRun: false },
  ).action((options: ChangeOptions) =>
    previewAndApply(options, setExitCode, (ops, run) => ops.preview("restart", run)),
  );
};
