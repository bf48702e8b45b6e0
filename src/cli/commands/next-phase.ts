import { addChangeOptions, type ChangeOptions, previewAndApply } from "../operation-cli.ts";
import type { RegisterCommand } from "./command.ts";

/** `trainops next-phase --run R [--dry-run] [--yes]`: apply the plan's next phase and restart. */
export const registerNextPhase: RegisterCommand = (program, setExitCode) => {
  addChangeOptions(
    program
      .command("next-phase")
      .description("Apply the plan's next phase to the training config and restart training"),
  ).action((options: ChangeOptions) =>
    previewAndApply(options, setExitCode, (ops, run) => ops.preview("next-phase", run)),
  );
};
