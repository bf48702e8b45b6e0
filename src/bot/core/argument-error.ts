import { TrainopsError } from "../../core/errors.ts";

/** Raised when a person's arguments are wrong; the message says what and how to fix it. */
export class ArgumentError extends TrainopsError {
  override readonly name = "ArgumentError";
  readonly code = "invalid_argument";
}
