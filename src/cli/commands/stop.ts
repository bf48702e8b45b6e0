import { addChangeOptions, type ChangeOptions, previewAndApply } from "../operation-cli.ts";
import type { RegisterCommand } from "./command.ts";

/** `trainops stop --run R [--yes]`: stop training (SIGINT, SIGTERM, SIGKILL) and leave it stopped. */
export const registerStop: RegisterCommand = (program, setExitCode) => {
  addChangeOptions(
    program
      .command("stop")
      .description("Stop training (SIGINT, SIGTERM, SIGKILL) and leave it stopped"),
  ).action((options: ChangeOptions) =>
    previewAndApply(options, setExitCode, (ops, run) => ops.preview("stop", run)),
  );
};
