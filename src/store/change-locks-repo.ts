import type { Db } from "./database.ts";

/** Who is changing a run right now. */
export interface ChangeLock {
  run: string;
  holderId: string;
  holderName: string;
  operation: string;
  acquiredAt: number;
  expiresAt: number;
}

interface LockRow {
  run: string;
  holder_id: string;
  holder_name: string;
  operation: string;
  acquired_at: number;
  expires_at: number;
}

/** One change at a time per run, across processes sharing the store. */
export class ChangeLocksRepo {
  constructor(private readonly db: Db) {}

  /**
   * Takes the run's lock unless someone holds an unexpired one; returns the holder's lock when
   * refused. One transaction, so two processes cannot both win.
   */
  tryAcquire(lock: ChangeLock): { ok: true } | { ok: false; heldBy: ChangeLock } {
    return this.db
      .transaction(() => {
        const row = this.db.prepare("SELECT * FROM change_locks WHERE run = ?").get(lock.run) as
          | LockRow
          | undefined;
        if (row && row.expires_at > lock.acquiredAt)
          return { ok: false as const, heldBy: toLock(row) };
        this.db
          .prepare(
            `INSERT INTO change_locks (run, holder_id, holder_name, operation, acquired_at, expires_at)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (run) DO UPDATE SET holder_id = excluded.holder_id,
             holder_name = excluded.holder_name, operation = excluded.operation,
             acquired_at = excluded.acquired_at, expires_at = excluded.expires_at`,
          )
          .run(
            lock.run,
            lock.holderId,
            lock.holderName,
            lock.operation,
            lock.acquiredAt,
            lock.expiresAt,
          );
        return { ok: true as const };
      })
      .immediate();
  }

  /** Releases the lock if `holderId` holds it at `acquiredAt`. */
  release(run: string, holderId: string, acquiredAt: number): void {
    this.db
      .prepare("DELETE FROM change_locks WHERE run = ? AND holder_id = ? AND acquired_at = ?")
      .run(run, holderId, acquiredAt);
  }

  get(run: string): ChangeLock | null {
    const row = this.db.prepare("SELECT * FROM change_locks WHERE run = ?").get(run) as
      | LockRow
      | undefined;
    return row ? toLock(row) : null;
  }
}

function toLock(row: LockRow): ChangeLock {
  return {
    run: row.run,
    holderId: row.holder_id,
    holderName: row.holder_name,
    operation: row.operation,
    acquiredAt: row.acquired_at,
    expiresAt: row.expires_at,
  };
}
