/**
 * The base of trainops's own errors. `code` is stable (front ends, the CLI's exit codes and
 * tests branch on it), where a class name can be minified or a message reworded.
 */
export abstract class TrainopsError extends Error {
  /** What went wrong, as a stable identifier (`setup`, `operation_refused`, …). */
  abstract readonly code: string;
}

/** Whether `error` is one of ours with the given code. */
export function hasCode(error: unknown, code: string): error is TrainopsError {
  return error instanceof TrainopsError && error.code === code;
}

/**
 * A chat platform refused its setup (a bad token, a missing id): a mistake to fix now, so the
 * daemon stops with the message naming the setting. `code` says which: `setup`, or
 * `token_rejected` when the platform answered 401 to the token.
 */
export class SetupError extends TrainopsError {
  override readonly name: string = "SetupError";
  constructor(
    message: string,
    readonly code: "setup" | "token_rejected" = "setup",
  ) {
    super(message);
  }
}
