import type { Severity } from "../message/message.ts";
import type { ErrorKind } from "../model/monitoring.ts";
import type { Db } from "./database.ts";
import { EventsRepo, type StoredEvent } from "./events-repo.ts";

/** Where an alert is in its life. */
export type AlertState = "pending" | "firing" | "resolved";

/** One alert as stored: one row per dedupe key while open, kept after it resolves. */
export interface AlertRecord {
  id: number;
  dedupeKey: string;
  rule: string;
  run: string;
  phase: string | null;
  state: AlertState;
  severity: Severity;
  startedAt: number;
  firedAt: number | null;
  lastNotifiedAt: number | null;
  resolvedAt: number | null;
  headline: string;
  /** The rule's latest finding, as JSON-able data. */
  finding: unknown;
  updatedAt: number;
}

interface AlertRow {
  id: number;
  dedupe_key: string;
  rule: string;
  run: string;
  phase: string | null;
  state: AlertState;
  severity: Severity;
  started_at: number;
  fired_at: number | null;
  last_notified_at: number | null;
  resolved_at: number | null;
  headline: string;
  finding_json: string;
  updated_at: number;
}

/** Alert state, expected stops, and the few reads of monitor tables the rules need. */
export class AlertsRepo {
  private readonly events: EventsRepo;

  constructor(private readonly db: Db) {
    this.events = new EventsRepo(db);
  }

  /** Runs `fn` in one SQLite transaction (an alert change and its outbox row land together). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Open (pending or firing) alerts of a run, or of one rule of a run. */
  open(run: string, rule?: string): AlertRecord[] {
    const rows = (
      rule === undefined
        ? this.db
            .prepare("SELECT * FROM alerts WHERE run = ? AND state != 'resolved' ORDER BY id")
            .all(run)
        : this.db
            .prepare(
              "SELECT * FROM alerts WHERE run = ? AND rule = ? AND state != 'resolved' ORDER BY id",
            )
            .all(run, rule)
    ) as AlertRow[];
    return rows.map(toAlert);
  }

  insert(alert: Omit<AlertRecord, "id">): AlertRecord {
    const result = this.db
      .prepare(
        `INSERT INTO alerts (dedupe_key, rule, run, phase, state, severity, started_at, fired_at,
           last_notified_at, resolved_at, headline, finding_json, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(alert.dedupeKey, alert.rule, alert.run, alert.phase, ...mutableValues(alert));
    return { ...alert, id: Number(result.lastInsertRowid) };
  }

  /** Writes every mutable column of `alert` back. */
  update(alert: AlertRecord): void {
    this.db
      .prepare(
        `UPDATE alerts SET state = ?, severity = ?, started_at = ?, fired_at = ?, last_notified_at = ?,
           resolved_at = ?, headline = ?, finding_json = ?, updated_at = ? WHERE id = ?`,
      )
      .run(...mutableValues(alert), alert.id);
  }

  /** Deletes alerts resolved before `before` that no outbox row still points at. */
  pruneResolved(before: number): number {
    return this.db
      .prepare(
        `DELETE FROM alerts WHERE state = 'resolved' AND resolved_at < ?
         AND NOT EXISTS (SELECT 1 FROM alert_outbox o WHERE o.alert_id = alerts.id)`,
      )
      .run(before).changes;
  }

  /** The stop an operation announced for the run (see ExpectedStopsRepo), or null. */
  expectedStop(run: string): ExpectedStop | null {
    const row = this.db
      .prepare("SELECT noted_at, until, started_at FROM alert_expected_stops WHERE run = ?")
      .get(run) as { noted_at: number; until: number; started_at: number | null } | undefined;
    return row ? { notedAt: row.noted_at, until: row.until, startedAt: row.started_at } : null;
  }

  /** The newest event of a run whose kind is one of `kinds`, or null. */
  latestEvent(run: string, kinds: readonly ErrorKind[]): StoredEvent | null {
    return this.events.latestOfKinds(run, kinds);
  }
}

/** A stop the operations side asked for (a restart), as the alert rules see it. */
export interface ExpectedStop {
  /** When the restart began. */
  notedAt: number;
  /** Until when the process may be down. */
  until: number;
  /** When the new process was started; null while the old one is still being stopped. */
  startedAt: number | null;
}

/**
 * The columns an alert's life changes, in the order both insert() and update() list them:
 * state, severity, started_at, fired_at, last_notified_at, resolved_at, headline,
 * finding_json, updated_at.
 */
function mutableValues(alert: Omit<AlertRecord, "id">): Array<string | number | null> {
  return [
    alert.state,
    alert.severity,
    alert.startedAt,
    alert.firedAt,
    alert.lastNotifiedAt,
    alert.resolvedAt,
    alert.headline,
    JSON.stringify(alert.finding ?? null),
    alert.updatedAt,
  ];
}

function toAlert(row: AlertRow): AlertRecord {
  return {
    id: row.id,
    dedupeKey: row.dedupe_key,
    rule: row.rule,
    run: row.run,
    phase: row.phase,
    state: row.state,
    severity: row.severity,
    startedAt: row.started_at,
    firedAt: row.fired_at,
    lastNotifiedAt: row.last_notified_at,
    resolvedAt: row.resolved_at,
    headline: row.headline,
    finding: JSON.parse(row.finding_json) as unknown,
    updatedAt: row.updated_at,
  };
}
