import type { Statement } from "better-sqlite3";
import type { Db } from "./database.ts";

/**
 * Prepared statements of one database, kept by their SQL: preparing costs tens of microseconds
 * each time, and a status reply runs a dozen statements.
 */
export class StatementCache {
  private readonly statements = new Map<string, Statement<unknown[]>>();

  constructor(private readonly db: Db) {}

  /** The statement for `sql`, prepared on first use. */
  get(sql: string): Statement<unknown[]> {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare<unknown[]>(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}
