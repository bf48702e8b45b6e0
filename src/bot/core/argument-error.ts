/** Raised when a person's arguments are wrong; the message says what and how to fix it. */
export class ArgumentError extends Error {
  override readonly name = "ArgumentError";
}
