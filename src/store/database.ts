import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { TrainopsError } from "../core/errors.ts";
import { MIGRATIONS } from "./migrations/index.ts";
import { nativeBuildHint } from "./native-build-hint.ts";
import { reuseStatements } from "./statement-reuse.ts";

// better-sqlite3 is CommonJS, loaded through require: importing it from ESM makes Node lex it
// for named exports and load it through its CommonJS-from-ESM machinery, CPU that every
// command that opens the store would pay.
const require = createRequire(import.meta.url);
const Database = require("better-sqlite3") as typeof BetterSqlite3;

/** A better-sqlite3 handle; only code under src/store touches it. */
export type Db = BetterSqlite3.Database;

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
  let db: Db | undefined;
  try {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    db = new Database(path);
    db.pragma("journal_mode = WAL");
    // NORMAL is durable across process crashes in WAL mode; only a power loss can drop the
    // last commits, which the outbox tolerates by re-sending.
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    db.pragma("busy_timeout = 5000");
    migrate(db);
    reuseStatements(db);
    return db;
  } catch (error) {
    db?.close();
    const hint = nativeBuildHint(error as Error);
    if (hint) throw new StoreError(hint);
    throw storeError(path, error as Error & { code?: string });
  }
}

/** Says what is wrong with the store file and what to do, instead of a raw SQLite or errno code. */
function storeError(path: string, error: Error & { code?: string }): StoreError {
  const code = error.code ?? "";
  if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") {
    return new StoreError(
      `the store ${path} is damaged or not a trainops store (${error.message}); move it aside (mv ${path} ${path}.broken) and start again with an empty one, or point store: at another file`,
    );
  }
  if (
    code === "EACCES" ||
    code === "EPERM" ||
    code === "EROFS" ||
    code === "SQLITE_CANTOPEN" ||
    code === "SQLITE_READONLY" ||
    code.startsWith("SQLITE_READONLY")
  ) {
    return storeNotWritable(path);
  }
  if (code === "ENOTDIR" || code === "EEXIST") {
    return new StoreError(
      `cannot create the store ${path}: a file stands where its folder should be; point store: at a path in a folder`,
    );
  }
  return new StoreError(`cannot open the store at ${path}: ${error.message}`);
}

/**
 * The error for a store whose folder this user cannot write (its files, the WAL or the
 * instance lock beside it): names the path and the fix, never a raw EACCES.
 */
export function storeNotWritable(path: string): StoreError {
  return new StoreError(
    `cannot write the store ${path}: ${dirname(path)} is not writable by this user; fix its permissions, or point store: at a writable path`,
  );
}

/** Whether a file-system error means "not allowed to write here". */
export function isNotWritable(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === "EACCES" || code === "EPERM" || code === "EROFS";
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
