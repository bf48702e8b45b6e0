import { type LineMatch, type LinePattern, MAX_MATCHED_LINE } from "../../model/line-pattern.ts";
import { stripAnsi } from "./strip-ansi.ts";

/** Matches a pattern keeps from one read; a pattern that matches every line stays bounded. */
export const MAX_MATCHES_PER_READ = 50;

/**
 * Tests log lines against the user's patterns. One matcher per ingestor: every line the
 * ingestor reads passes here once, the same way for polls and follow streams.
 */
export class LinePatternMatcher {
  private readonly kept = new Map<string, number>();

  constructor(private readonly patterns: readonly LinePattern[]) {}

  /** Whether there is anything to match (most configs have no patterns). */
  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /** Starts a new read: the per-read bound counts again from zero. */
  startRead(): void {
    this.kept.clear();
  }

  /** The patterns `line` matches, with their groups. */
  match(raw: string): LineMatch[] {
    if (this.patterns.length === 0) return [];
    const line = stripAnsi(raw.length > MAX_MATCHED_LINE ? raw.slice(0, MAX_MATCHED_LINE) : raw)
      .replace(/\r$/, "")
      .trimEnd();
    const out: LineMatch[] = [];
    for (const pattern of this.patterns) {
      const found = pattern.regex.exec(line);
      if (!found) continue;
      const kept = this.kept.get(pattern.name) ?? 0;
      if (kept >= MAX_MATCHES_PER_READ) continue;
      this.kept.set(pattern.name, kept + 1);
      out.push({
        pattern: pattern.name,
        line: line.trim(),
        groups: Array.from(found, (g) => g ?? ""),
        named: Object.fromEntries(Object.entries(found.groups ?? {}).map(([k, v]) => [k, v ?? ""])),
      });
    }
    return out;
  }
}
