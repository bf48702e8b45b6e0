import type { LineMatch } from "../model/line-pattern.ts";
import type { Db } from "./database.ts";

/** A stored pattern match, with its time. */
export interface StoredLineMatch extends LineMatch {
  id: number;
  run: string;
  at: number;
}

interface MatchRow {
  id: number;
  run: string;
  at: number;
  pattern: string;
  line: string;
  groups_json: string;
}

/** Log lines that matched the user's patterns. */
export class LogMatchesRepo {
  constructor(private readonly db: Db) {}

  insert(run: string, at: number, match: LineMatch): void {
    this.db
      .prepare(
        "INSERT INTO log_matches (run, at, pattern, line, groups_json) VALUES (?, ?, ?, ?, ?)",
      )
      .run(
        run,
        at,
        match.pattern,
        match.line,
        JSON.stringify({ groups: match.groups, named: match.named }),
      );
  }

  /** How many lines of `pattern` matched in a run since `from`, and the newest of them. */
  since(
    run: string,
    pattern: string,
    from: number,
  ): { count: number; newest: StoredLineMatch | null; oldestAt: number | null } {
    const summary = this.db
      .prepare(
        "SELECT COUNT(*) AS n, MIN(at) AS oldest FROM log_matches WHERE run = ? AND pattern = ? AND at >= ?",
      )
      .get(run, pattern, from) as { n: number; oldest: number | null };
    if (summary.n === 0) return { count: 0, newest: null, oldestAt: null };
    const row = this.db
      .prepare(
        "SELECT * FROM log_matches WHERE run = ? AND pattern = ? AND at >= ? ORDER BY at DESC, id DESC LIMIT 1",
      )
      .get(run, pattern, from) as MatchRow;
    return { count: summary.n, newest: toMatch(row), oldestAt: summary.oldest };
  }

  /** Forgets matches older than `before`; returns how many. */
  prune(before: number): number {
    return this.db.prepare("DELETE FROM log_matches WHERE at < ?").run(before).changes;
  }
}

function toMatch(row: MatchRow): StoredLineMatch {
  const parsed = JSON.parse(row.groups_json) as { groups: string[]; named: Record<string, string> };
  return {
    id: row.id,
    run: row.run,
    at: row.at,
    pattern: row.pattern,
    line: row.line,
    groups: parsed.groups,
    named: parsed.named,
  };
}
