import type { Db } from "./database.ts";

/** The process that holds a lock: which machine, which pid, and when that process started. */
export interface LockHolderProcess {
  host: string;
  pid: number;
  /** The process's start time as the OS reports it: a reused pid has another one. */
  start: string;
}

/** Who is changing a run right now. */
export interface ChangeLock {
  run: string;
  holderId: string;
  holderName: string;
  operation: string;
  acquiredAt: number;
  expiresAt: number;
  /** The holding process; null for locks written before holders were recorded. */
  process: LockHolderProcess | null;
  /** The journal entry of the change the lock protects, once written. */
  operationId: number | null;
  /** When the holder last said it is still at work. */
  renewedAt: number | null;
}

/** What {@link ChangeLocksRepo.tryAcquire} needs to take a lock. */
export type NewChangeLock = Omit<ChangeLock, "operationId" | "renewedAt">;

interface LockRow {
  run: string;
  holder_id: string;
  holder_name: string;
  operation: string;
  acquired_at: number;
  expires_at: number;
  holder_host: string | null;
  holder_pid: number | null;
  holder_start: string | null;
  operation_id: number | null;
  renewed_at: number | null;
}

/** How a lock attempt went: taken (perhaps from a dead holder), or refused naming the holder. */
export type AcquireResult =
  | { ok: true; tookOverFrom: ChangeLock | null }
  | { ok: false; heldBy: ChangeLock };

/** One change at a time per run, across processes sharing the store. */
export class ChangeLocksRepo {
  constructor(private readonly db: Db) {}

  /**
   * Takes the run's lock unless someone holds a live one; returns the holder's lock when
   * refused. A lock past its expiry, or whose holder `isGone` says has died, is taken over and
   * returned as `tookOverFrom`. One transaction, so two processes cannot both win.
   */
  tryAcquire(lock: NewChangeLock, isGone: (held: ChangeLock) => boolean): AcquireResult {
    return this.db
      .transaction((): AcquireResult => {
        const row = this.db.prepare("SELECT * FROM change_locks WHERE run = ?").get(lock.run) as
          | LockRow
          | undefined;
        const held = row ? toLock(row) : null;
        if (held && held.expiresAt > lock.acquiredAt && !isGone(held))
          return { ok: false, heldBy: held };
        this.db
          .prepare(
            `INSERT INTO change_locks (run, holder_id, holder_name, operation, acquired_at,
               expires_at, holder_host, holder_pid, holder_start, operation_id, renewed_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)
             ON CONFLICT (run) DO UPDATE SET holder_id = excluded.holder_id,
               holder_name = excluded.holder_name, operation = excluded.operation,
               acquired_at = excluded.acquired_at, expires_at = excluded.expires_at,
               holder_host = excluded.holder_host, holder_pid = excluded.holder_pid,
               holder_start = excluded.holder_start, operation_id = NULL,
               renewed_at = excluded.renewed_at`,
          )
          .run(
            lock.run,
            lock.holderId,
            lock.holderName,
            lock.operation,
            lock.acquiredAt,
            lock.expiresAt,
            lock.process?.host ?? null,
            lock.process?.pid ?? null,
            lock.process?.start ?? null,
            lock.acquiredAt,
          );
        return { ok: true, tookOverFrom: held };
      })
      .immediate();
  }

  /** Ties the lock to the journal entry of the change it protects. */
  setOperation(run: string, holderId: string, acquiredAt: number, operationId: number): void {
    this.db
      .prepare(
        "UPDATE change_locks SET operation_id = ? WHERE run = ? AND holder_id = ? AND acquired_at = ?",
      )
      .run(operationId, run, holderId, acquiredAt);
  }

  /** The holder is still at work: pushes the expiry out. Returns false when it lost the lock. */
  renew(run: string, holderId: string, acquiredAt: number, at: number, expiresAt: number): boolean {
    return (
      this.db
        .prepare(
          `UPDATE change_locks SET renewed_at = ?, expires_at = ?
           WHERE run = ? AND holder_id = ? AND acquired_at = ?`,
        )
        .run(at, expiresAt, run, holderId, acquiredAt).changes > 0
    );
  }

  /** Releases the lock if `holderId` holds it at `acquiredAt`. */
  release(run: string, holderId: string, acquiredAt: number): void {
    this.db
      .prepare("DELETE FROM change_locks WHERE run = ? AND holder_id = ? AND acquired_at = ?")
      .run(run, holderId, acquiredAt);
  }

  /** Removes the run's lock whoever holds it (a person's unlock); returns what was removed. */
  forceRelease(run: string): ChangeLock | null {
    return this.db
      .transaction(() => {
        const held = this.get(run);
        if (held) this.db.prepare("DELETE FROM change_locks WHERE run = ?").run(run);
        return held;
      })
      .immediate();
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
    process:
      row.holder_host !== null && row.holder_pid !== null && row.holder_start !== null
        ? { host: row.holder_host, pid: row.holder_pid, start: row.holder_start }
        : null,
    operationId: row.operation_id,
    renewedAt: row.renewed_at,
  };
}
