/**
 * A user's pattern on log lines (`alerts.rules.pattern`): the monitor tests every log line it
 * ingests against these once, and stores the lines that match for the pattern's alert rule.
 */
export interface LinePattern {
  /** The pattern's name, unique among patterns (`checkpoint_failed`). */
  name: string;
  /** Compiled from the user's regex with their case flag. */
  regex: RegExp;
}

/** One log line that matched a {@link LinePattern}. */
export interface LineMatch {
  pattern: string;
  /** The line as matched (ANSI removed, at most {@link MAX_MATCHED_LINE} characters). */
  line: string;
  /** Numbered groups: `groups[0]` is the whole match, then `$1`, `$2`… ("" when unset). */
  groups: string[];
  /** Named groups, by name. */
  named: Record<string, string>;
}

/** Characters of a line that patterns are tested against (a megabyte line is cut here). */
export const MAX_MATCHED_LINE = 4096;
