/**
 * Quotes a string for POSIX sh as one word: wrapped in single quotes, with each embedded
 * single quote closed, escaped and reopened. Nothing a user types reaches a shell otherwise.
 */
export function shellQuote(value: string): string {
  if (value.includes("\0")) throw new Error("a shell argument cannot contain a NUL byte");
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
