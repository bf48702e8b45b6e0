// CSI sequences (colours, cursor moves), OSC sequences (titles, hyperlinks) and the remaining
// two-byte escapes. tqdm and coloured loggers emit all three.
const ANSI_PATTERN =
  /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]/g;

/** Removes ANSI terminal escape sequences from one line of text. */
export function stripAnsi(text: string): string {
  // Most log lines have no escape at all; skip the regex for them.
  if (!text.includes("\x1b") && !text.includes("\x9b")) return text;
  return text.replace(ANSI_PATTERN, "");
}
