import type { Db } from "./database.ts";

/**
 * How far a change got: the lock taken, the new training config written, the stop signal sent,
 * the new process started, its first steps confirmed. `done` once it has ended either way.
 */
export type JournalStep = "locked" | "config-written" | "stop-sent" | "started" | "confirmed";

/** One change as journalled while it runs. */
export interface JournalEntry {
  id: number;
  run: string;
  kind: string;
  /** The preview being applied, as stored (parsed by the operations side). */
  preview: unknown;
  /** Who asked, as stored (parsed by the operations side). */
  actor: unknown;
  step: JournalStep;
  /** The phase attempt the change created, when it created one. */
  attemptId: number | null;
  configBefore: string | null;
  configAfter: string | null;
  startedAt: number;
  updatedAt: number;
  endedAt: number | null;
  outcome: string | null;
  detail: string | null;
}

interface JournalRow {
  id: number;
  run: string;
  kind: string;
  preview_json: string;
  actor_json: string;
  step: JournalStep;
  attempt_id: number | null;
  config_before: string | null;
  config_after: string | null;
  started_at: number;
  updated_at: number;
  ended_at: number | null;
  outcome: string | null;
  detail: string | null;
}

/** The journal of changes: written step by step, read back to recover an interrupted one. */
export class OperationJournalRepo {
  constructor(private readonly db: Db) {}

  /** Opens an entry at step `locked`; returns its id. */
  open(entry: { run: string; kind: string; preview: unknown; actor: unknown; at: number }): number {
    const result = this.db
      .prepare(
        `INSERT INTO operation_journal (run, kind, preview_json, actor_json, step, started_at,
           updated_at) VALUES (?, ?, ?, ?, 'locked', ?, ?)`,
      )
      .run(
        entry.run,
        entry.kind,
        JSON.stringify(entry.preview),
        JSON.stringify(entry.actor),
        entry.at,
        entry.at,
      );
    return Number(result.lastInsertRowid);
  }

  /**
   * Records that the change reached `step`, with what recovery needs to undo or finish it. The
   * first `configBefore` stays: undoing goes back to the config from before the whole change.
   */
  step(
    id: number,
    step: JournalStep,
    at: number,
    facts: { attemptId?: number; configBefore?: string; configAfter?: string } = {},
  ): void {
    this.db
      .prepare(
        `UPDATE operation_journal SET step = ?, updated_at = ?,
           attempt_id = COALESCE(?, attempt_id), config_before = COALESCE(config_before, ?),
           config_after = COALESCE(?, config_after)
         WHERE id = ? AND ended_at IS NULL`,
      )
      .run(
        step,
        at,
        facts.attemptId ?? null,
        facts.configBefore ?? null,
        facts.configAfter ?? null,
        id,
      );
  }

  /** Ends the entry with how it went. */
  close(id: number, at: number, outcome: string, detail: string): void {
    this.db
      .prepare(
        `UPDATE operation_journal SET ended_at = ?, updated_at = ?, outcome = ?, detail = ?
         WHERE id = ? AND ended_at IS NULL`,
      )
      .run(at, at, outcome, detail, id);
  }

  get(id: number): JournalEntry | null {
    const row = this.db.prepare("SELECT * FROM operation_journal WHERE id = ?").get(id) as
      | JournalRow
      | undefined;
    return row ? toEntry(row) : null;
  }

  /** The run's entries that never ended, oldest first. */
  unfinished(run: string): JournalEntry[] {
    return (
      this.db
        .prepare("SELECT * FROM operation_journal WHERE run = ? AND ended_at IS NULL ORDER BY id")
        .all(run) as JournalRow[]
    ).map(toEntry);
  }

  /** The run's entries, newest first. */
  list(run: string, limit = 50): JournalEntry[] {
    return (
      this.db
        .prepare("SELECT * FROM operation_journal WHERE run = ? ORDER BY id DESC LIMIT ?")
        .all(run, limit) as JournalRow[]
    ).map(toEntry);
  }
}

function toEntry(row: JournalRow): JournalEntry {
  return {
    id: row.id,
    run: row.run,
    kind: row.kind,
    preview: JSON.parse(row.preview_json) as unknown,
    actor: JSON.parse(row.actor_json) as unknown,
    step: row.step,
    attemptId: row.attempt_id,
    configBefore: row.config_before,
    configAfter: row.config_after,
    startedAt: row.started_at,
    updatedAt: row.updated_at,
    endedAt: row.ended_at,
    outcome: row.outcome,
    detail: row.detail,
  };
}
