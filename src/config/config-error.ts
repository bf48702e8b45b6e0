import { TrainopsError } from "../core/errors.ts";
/** A configuration problem: names the key path, what was wrong and how to fix it. Exit code 2. */
export class ConfigError extends TrainopsError {
  override readonly name = "ConfigError";
  readonly code = "config";
  constructor(
    message: string,
    /** Individual problems, each already phrased for people. */
    readonly problems: readonly string[] = [],
  ) {
    super(message);
  }
}
