import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { TrainopsError } from "../core/errors.ts";
import { MIGRATIONS } from "./migrations/index.ts";
import { nativeBuildHint } from "./native-build-hint.ts";

/** A better-sqlite3 handle; only code under src/store touches it. */
export type Db = Database.Database;

/** Raised when the store cannot be opened or migrated. */
export class StoreError extends TrainopsError {
  override readonly name = "StoreError";
  readonly code = "store";
}

/**
 * Opens (creating if needed) the SQLite store at `path`, in WAL mode, and applies pending
 * migrations in one transaction each. `:memory:` works for throwaway stores.
 */
export function openDatabase(path: string): Db {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  let db: Db;
  try {
    db = new Database(path);
  } catch (error) {
    const hint = nativeBuildHint(error as Error);
    if (hint) throw new StoreError(hint);
    throw new StoreError(`cannot open the store at ${path}: ${(error as Error).message}`);
  }
  db.pragma("journal_mode = WAL");
  // NORMAL is durable across process crashes in WAL mode; only a power loss can drop the
  // last commits, which the outbox tolerates by re-sending.
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  migrate(db);
  return db;
}

function migrate(db: Db): void {
  db.exec(
    "CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
  );
  const applied = new Set(
    db
      .prepare("SELECT id FROM schema_migrations")
      .all()
      .map((row) => (row as { id: number }).id),
  );
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.id)) continue;
    db.transaction(() => {
      db.exec(migration.up);
      db.prepare("INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)").run(
        migration.id,
        migration.name,
        Date.now(),
      );
    })();
  }
}
