import { type ClassifiedEvent, type ErrorKind, FAILURE_KINDS } from "../model/monitoring.ts";
import type { Db } from "./database.ts";

/** A classified event as stored, with its id and time. */
export interface StoredEvent {
  id: number;
  run: string;
  at: number;
  kind: ErrorKind;
  source: "log" | "kernel";
  line: string;
  detail: Record<string, string | number> | null;
}

interface EventRow {
  id: number;
  run: string;
  at: number;
  kind: string;
  source: string;
  line: string;
  detail_json: string | null;
}

/** Classified errors seen in a run's log or kernel messages. */
export class EventsRepo {
  constructor(private readonly db: Db) {}

  /** Stores an event and returns its id. */
  insert(run: string, at: number, event: ClassifiedEvent): number {
    const result = this.db
      .prepare(
        "INSERT INTO events (run, at, kind, source, line, detail_json) VALUES (?, ?, ?, ?, ?, ?)",
      )
      .run(
        run,
        at,
        event.kind,
        event.source,
        event.line,
        event.detail ? JSON.stringify(event.detail) : null,
      );
    return Number(result.lastInsertRowid);
  }

  /**
   * Rewrites a stored event with its finished version (an event stored at its decisive line,
   * completed by the lines that followed); its id and time stay.
   */
  update(id: number, event: ClassifiedEvent): void {
    this.db
      .prepare("UPDATE events SET kind = ?, source = ?, line = ?, detail_json = ? WHERE id = ?")
      .run(
        event.kind,
        event.source,
        event.line,
        event.detail ? JSON.stringify(event.detail) : null,
        id,
      );
  }

  /** Events of a run with id greater than `afterId`, oldest first (for consumers that resume). */
  after(run: string, afterId: number, limit = 1000): StoredEvent[] {
    const rows = this.db
      .prepare("SELECT * FROM events WHERE run = ? AND id > ? ORDER BY id LIMIT ?")
      .all(run, afterId, limit) as EventRow[];
    return rows.map(toEvent);
  }

  /** Events of a run in `from <= at < to`, oldest first. */
  range(run: string, from: number, to: number): StoredEvent[] {
    const rows = this.db
      .prepare("SELECT * FROM events WHERE run = ? AND at >= ? AND at < ? ORDER BY id")
      .all(run, from, to) as EventRow[];
    return rows.map(toEvent);
  }

  /** The newest event of a run among `kinds`, or null. */
  latestOfKinds(run: string, kinds: readonly ErrorKind[]): StoredEvent | null {
    if (kinds.length === 0) return null;
    const row = this.db
      .prepare(
        `SELECT * FROM events WHERE run = ? AND kind IN (${kinds.map(() => "?").join(", ")})
         ORDER BY id DESC LIMIT 1`,
      )
      .get(run, ...kinds) as EventRow | undefined;
    return row ? toEvent(row) : null;
  }

  /**
   * The newest event of a run that is an error: a KeyboardInterrupt (`interrupted`, what a
   * graceful restart writes) is not one.
   */
  latestError(run: string): StoredEvent | null {
    return this.latestOfKinds(run, FAILURE_KINDS);
  }

  /** The newest `limit` events of a run, newest first. */
  recent(run: string, limit = 10): StoredEvent[] {
    const rows = this.db
      .prepare("SELECT * FROM events WHERE run = ? ORDER BY id DESC LIMIT ?")
      .all(run, limit) as EventRow[];
    return rows.map(toEvent);
  }
}

function toEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    run: row.run,
    at: row.at,
    kind: row.kind as ErrorKind,
    source: row.source as "log" | "kernel",
    line: row.line,
    detail: row.detail_json
      ? (JSON.parse(row.detail_json) as Record<string, string | number>)
      : null,
  };
}
