import type { Statement } from "better-sqlite3";
import type { Severity } from "../message/message.ts";
import type { Db } from "./database.ts";

/** Where a run's training stood at one poll: the figures a digest compares. */
export interface ProgressPoint {
  at: number;
  step: number;
  totalSteps: number | null;
  epoch: number | null;
  stepTimeSeconds: number | null;
  stepsPerHour: number | null;
  etaSeconds: number | null;
}

/** An alert that fired or resolved within a span. */
export interface AlertSpanRecord {
  rule: string;
  severity: Severity;
  headline: string;
  firedAt: number | null;
  resolvedAt: number | null;
  state: "pending" | "firing" | "resolved";
}

interface PointRow {
  at: number;
  step: number;
  total_steps: number | null;
  epoch: number | null;
  step_time_s: number | null;
  steps_per_hour: number | null;
  eta_s: number | null;
}

const POINT_COLUMNS = "at, step, total_steps, epoch, step_time_s, steps_per_hour, eta_s";

function toPoint(row: PointRow | undefined): ProgressPoint | null {
  return row
    ? {
        at: row.at,
        step: row.step,
        totalSteps: row.total_steps,
        epoch: row.epoch,
        stepTimeSeconds: row.step_time_s,
        stepsPerHour: row.steps_per_hour,
        etaSeconds: row.eta_s,
      }
    : null;
}

/** The reads a digest makes: progress at two times and the alerts of a span. */
export class DigestFactsRepo {
  /** Statements prepared once: a digest of many runs makes four reads per run. */
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: Db) {}

  private statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** The newest reachable poll with a step at or before `at`, or null. */
  progressAtOrBefore(run: string, at: number): ProgressPoint | null {
    return toPoint(
      this.statement(
        `SELECT ${POINT_COLUMNS} FROM samples WHERE run = ? AND reachable = 1 AND step IS NOT NULL
             AND at <= ? ORDER BY at DESC, id DESC LIMIT 1`,
      ).get(run, at) as PointRow | undefined,
    );
  }

  /** The oldest reachable poll with a step after `at` and at or before `until`, or null. */
  progressAfter(run: string, at: number, until: number): ProgressPoint | null {
    return toPoint(
      this.statement(
        `SELECT ${POINT_COLUMNS} FROM samples WHERE run = ? AND reachable = 1 AND step IS NOT NULL
             AND at > ? AND at <= ? ORDER BY at, id LIMIT 1`,
      ).get(run, at, until) as PointRow | undefined,
    );
  }

  /**
   * Alerts of `run` that fired or resolved with `from <= time < to`, oldest first. Only alerts
   * that fired count: a condition that cleared while pending never reached anyone.
   */
  alertsWithin(run: string, from: number, to: number): AlertSpanRecord[] {
    const rows = this.statement(
      `SELECT rule, severity, headline, fired_at, resolved_at, state FROM alerts WHERE run = ?
           AND fired_at IS NOT NULL AND ((fired_at >= ? AND fired_at < ?) OR (resolved_at >= ? AND resolved_at < ?))
         ORDER BY COALESCE(fired_at, resolved_at), id`,
    ).all(run, from, to, from, to) as Array<{
      rule: string;
      severity: Severity;
      headline: string;
      fired_at: number | null;
      resolved_at: number | null;
      state: AlertSpanRecord["state"];
    }>;
    return rows.map((row) => ({
      rule: row.rule,
      severity: row.severity,
      headline: row.headline,
      firedAt: row.fired_at,
      resolvedAt: row.resolved_at,
      state: row.state,
    }));
  }

  /** How many alerts of `run` are firing now. */
  firingCount(run: string): number {
    return (
      this.statement("SELECT COUNT(*) AS n FROM alerts WHERE run = ? AND state = 'firing'").get(
        run,
      ) as { n: number }
    ).n;
  }
}
