import { addChangeOptions, type ChangeOptions, previewAndApply } from "../operation-cli.ts";
import type { RegisterCommand } from "./command.ts";

/** `trainops stop --run R [--yes]`: stop training (signals, scancel or systemctl stop) and leave it stopped. */
export const registerStop: RegisterCommand = (program, setExitCode) => {
  addChangeOptions(
    program
      .command("stop")
      .description(
        "Stop training and leave it stopped (SIGINT, SIGTERM, SIGKILL; scancel for a Slurm job; systemctl stop for a systemd unit)",
      ),
  ).action((options: ChangeOptions) =>
    previewAndApply(options, setExitCode, (ops, run) => ops.preview("stop", run)),
  );
};
