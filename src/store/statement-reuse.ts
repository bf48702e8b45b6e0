import type Database from "better-sqlite3";

/** Distinct SQL texts kept; the product has about 150. */
const MAX_CACHED = 1000;

/**
 * Makes `db.prepare` return the statement it compiled before for the same SQL text, instead of
 * compiling it again: the repositories prepare their SQL at each call, and a thousand runs'
 * polls and alert checks then spend more time compiling SQL than running it.
 *
 * A statement handed out again has its row mode reset (a caller's `.raw()`, `.pluck()` or
 * `.expand()` does not leak into the next caller's), and one still busy (an `.iterate()` in
 * progress) is never handed out: that caller gets a fresh statement.
 */
export function reuseStatements(db: Database.Database): void {
  const prepare = db.prepare.bind(db);
  const cache = new Map<string, Database.Statement>();
  db.prepare = ((source: string) => {
    const cached = cache.get(source);
    if (cached && !cached.busy) {
      if (cached.reader) {
        cached.raw(false);
        cached.pluck(false);
        cached.expand(false);
      }
      return cached;
    }
    const statement = prepare(source);
    // SQL built from values would grow the cache without end: past the bound, no more entries.
    if (!cached && cache.size < MAX_CACHED) cache.set(source, statement);
    return statement;
  }) as typeof db.prepare;
}
