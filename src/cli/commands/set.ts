import { addChangeOptions, type ChangeOptions, previewAndApply } from "../operation-cli.ts";
import type { RegisterCommand } from "./command.ts";

/** `trainops set --run R workers=4 batch=2 [--yes]`: change workers / batch size and restart. */
export const registerSet: RegisterCommand = (program, setExitCode) => {
  addChangeOptions(
    program
      .command("set")
      .description("Set data-loader workers and/or batch size in the training config, then restart")
      .argument("<assignments...>", "workers=<1-64> and/or batch=<1-4096>"),
  ).action(async (assignments: string[], options: ChangeOptions) => {
    let values: { workers?: number; batch?: number };
    try {
      values = parseAssignments(assignments);
    } catch (error) {
      process.stderr.write(`trainops: ${(error as Error).message}\n`);
      setExitCode(2);
      return;
    }
    await previewAndApply(options, setExitCode, (ops, run) => ops.preview("set", run, values));
  });
};

/** `workers=4 batch=2` → `{ workers: 4, batch: 2 }`; bounds are checked by the operations. */
export function parseAssignments(words: string[]): { workers?: number; batch?: number } {
  const values: { workers?: number; batch?: number } = {};
  for (const word of words) {
    const match = /^(workers|batch)=(.*)$/.exec(word);
    if (!match) {
      throw new SetArgumentError(`'${word}' is not workers=<n> or batch=<n>`);
    }
    const [, key, raw] = match as unknown as [string, "workers" | "batch", string];
    if (!/^\d{1,6}$/.test(raw)) {
      throw new SetArgumentError(`${key} must be an integer; got '${raw}'`);
    }
    values[key] = Number(raw);
  }
  return values;
}

/** A `set` argument that is not `workers=<n>` or `batch=<n>`. */
export class SetArgumentError extends Error {
  override readonly name = "SetArgumentError";
}
