/** What replaces a secret in text shown to people. */
export const REDACTED = "[redacted]";

// Each pattern matches a credential shape that shows up in training logs and shell output.
// Key=value forms keep the key so the reader still knows what was there.
const PATTERNS: Array<[RegExp, string]> = [
  [/\b(gh[pousr]_[A-Za-z0-9]{20,255})\b/g, REDACTED],
  [/\bgithub_pat_[A-Za-z0-9_]{20,255}\b/g, REDACTED],
  [/\bxox[abposr]-[A-Za-z0-9-]{8,}\b/g, REDACTED],
  [/\bxapp-[A-Za-z0-9-]{8,}\b/g, REDACTED],
  [/\bhf_[A-Za-z0-9]{20,}\b/g, REDACTED],
  [/\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{16,}\b/g, REDACTED],
  [/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, REDACTED],
  [/\bglpat-[A-Za-z0-9_-]{20,}\b/g, REDACTED],
  [/\bAIza[0-9A-Za-z_-]{35}\b/g, REDACTED],
  [/\bwandb_[A-Za-z0-9]{20,}\b/gi, REDACTED],
  // Discord bot tokens: base64 user id, timestamp, HMAC.
  [/\b[MNO][A-Za-z\d_-]{23,27}\.[A-Za-z\d_-]{6,7}\.[A-Za-z\d_-]{27,40}\b/g, REDACTED],
  // JSON web tokens.
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g, REDACTED],
  [/\b(Bearer|Basic|token)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  [/(\/\/[^\s:/@]+:)[^\s@/]+@/g, `$1${REDACTED}@`],
  [
    /\b((?:[A-Za-z0-9_-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?))["']?\s*[=:]\s*["']?)[^\s"',;]+/gi,
    `$1${REDACTED}`,
  ],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, REDACTED],
];

/** Replaces tokens, passwords and keys in `text` with `[redacted]`. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/**
 * Keeps the end of `text` within `maxChars` (log tails: the newest lines matter), cutting at a
 * line boundary. Returns the text and how many lines were dropped.
 */
export function keepTail(text: string, maxChars: number): { text: string; droppedLines: number } {
  if (text.length <= maxChars) return { text, droppedLines: 0 };
  const lines = text.split("\n");
  let size = 0;
  let start = lines.length;
  while (start > 0) {
    const next = (lines[start - 1] as string).length + (size > 0 ? 1 : 0);
    if (size + next > maxChars) break;
    size += next;
    start--;
  }
  if (start === lines.length) {
    // One enormous line: keep its end.
    return { text: (lines.at(-1) as string).slice(-maxChars), droppedLines: lines.length - 1 };
  }
  return { text: lines.slice(start).join("\n"), droppedLines: start };
}

/** The same arguments with secrets redacted, so nothing typed by mistake reaches the store. */
export function redactArgs(
  args: Record<string, string | undefined>,
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(args))
    out[key] = value === undefined ? undefined : redactSecrets(value);
  return out;
}
