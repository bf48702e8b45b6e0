import { TrainopsError } from "../core/errors.ts";

/** Raised when an operation is refused before it starts; the message is for people. */
export class OperationRefusedError extends TrainopsError {
  override readonly name = "OperationRefusedError";
  readonly code = "operation_refused";
}
