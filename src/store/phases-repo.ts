import type { Db } from "./database.ts";

/** Where a phase attempt stands; the persisted state machine. */
export type AttemptState =
  | "applying"
  | "warming"
  | "evaluating"
  | "passed"
  | "failed"
  | "inconclusive";

/** baseline: phase 0, the config as found; phase: a plan phase; manual: a `set`. */
export type AttemptKind = "baseline" | "phase" | "manual";

/** One try of one phase on one run. */
export interface PhaseAttempt {
  id: number;
  run: string;
  plan: string;
  phaseIndex: number;
  kind: AttemptKind;
  name: string;
  state: AttemptState;
  startedAt: number;
  /** Samples from here on are this phase's own (set when training is confirmed restarted). */
  measureFrom: number | null;
  /**
   * When training was started with this attempt's config; errors count from here (before it,
   * the old process was being stopped). Unset for the baseline and older attempts.
   */
  trainingStartedAt?: number | null;
  endedAt: number | null;
  workers: number | null;
  batch: number | null;
  configBefore: string | null;
  configAfter: string | null;
  /** The last measurement and verdict, as the phase engine wrote it. */
  result: Record<string, unknown> | null;
  reason: string | null;
  rolledBackAt: number | null;
  /** Waiting for a person (inconclusive, or passed without autoAdvance). */
  paused: boolean;
  actor: string | null;
}

interface AttemptRow {
  id: number;
  run: string;
  plan: string;
  phase_index: number;
  kind: string;
  name: string;
  state: string;
  started_at: number;
  measure_from: number | null;
  training_started_at: number | null;
  ended_at: number | null;
  workers: number | null;
  batch: number | null;
  config_before: string | null;
  config_after: string | null;
  result_json: string | null;
  reason: string | null;
  rolled_back_at: number | null;
  paused: number;
  actor: string | null;
}

const COLUMNS: Record<string, string> = {
  state: "state",
  measureFrom: "measure_from",
  trainingStartedAt: "training_started_at",
  endedAt: "ended_at",
  workers: "workers",
  batch: "batch",
  configBefore: "config_before",
  configAfter: "config_after",
  result: "result_json",
  reason: "reason",
  rolledBackAt: "rolled_back_at",
  paused: "paused",
};

export type AttemptPatch = Partial<
  Pick<
    PhaseAttempt,
    | "state"
    | "measureFrom"
    | "trainingStartedAt"
    | "endedAt"
    | "workers"
    | "batch"
    | "configBefore"
    | "configAfter"
    | "result"
    | "reason"
    | "rolledBackAt"
    | "paused"
  >
>;

/** Phase attempts per run; the newest attempt is where the run stands. */
export class PhasesRepo {
  constructor(private readonly db: Db) {}

  /**
   * Runs `fn` in one SQLite transaction: a verdict and the notice that announces it (queued in
   * the same database) land together or not at all.
   */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Records a new attempt and returns it. */
  create(attempt: Omit<PhaseAttempt, "id">): PhaseAttempt {
    const result = this.db
      .prepare(
        `INSERT INTO phase_attempts (run, plan, phase_index, kind, name, state, started_at,
          measure_from, ended_at, workers, batch, config_before, config_after, result_json, reason,
          rolled_back_at, paused, actor)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        attempt.run,
        attempt.plan,
        attempt.phaseIndex,
        attempt.kind,
        attempt.name,
        attempt.state,
        attempt.startedAt,
        attempt.measureFrom,
        attempt.endedAt,
        attempt.workers,
        attempt.batch,
        attempt.configBefore,
        attempt.configAfter,
        attempt.result ? JSON.stringify(attempt.result) : null,
        attempt.reason,
        attempt.rolledBackAt,
        attempt.paused ? 1 : 0,
        attempt.actor,
      );
    return { ...attempt, id: Number(result.lastInsertRowid) };
  }

  update(id: number, patch: AttemptPatch): void {
    const sets: string[] = [];
    const values: unknown[] = [];
    for (const [key, value] of Object.entries(patch)) {
      const column = COLUMNS[key];
      if (!column || value === undefined) continue;
      sets.push(`${column} = ?`);
      values.push(
        key === "result"
          ? value === null
            ? null
            : JSON.stringify(value)
          : key === "paused"
            ? value
              ? 1
              : 0
            : value,
      );
    }
    if (sets.length === 0) return;
    this.db.prepare(`UPDATE phase_attempts SET ${sets.join(", ")} WHERE id = ?`).run(...values, id);
  }

  get(id: number): PhaseAttempt | null {
    const row = this.db.prepare("SELECT * FROM phase_attempts WHERE id = ?").get(id) as
      | AttemptRow
      | undefined;
    return row ? toAttempt(row) : null;
  }

  /** The newest attempt of a run: where it stands. */
  current(run: string): PhaseAttempt | null {
    const row = this.db
      .prepare("SELECT * FROM phase_attempts WHERE run = ? ORDER BY id DESC LIMIT 1")
      .get(run) as AttemptRow | undefined;
    return row ? toAttempt(row) : null;
  }

  /** The newest passed attempt: the config a rollback returns to. */
  lastPassed(run: string): PhaseAttempt | null {
    const row = this.db
      .prepare(
        "SELECT * FROM phase_attempts WHERE run = ? AND state = 'passed' ORDER BY id DESC LIMIT 1",
      )
      .get(run) as AttemptRow | undefined;
    return row ? toAttempt(row) : null;
  }

  /** Every attempt of a run, oldest first. */
  list(run: string): PhaseAttempt[] {
    const rows = this.db
      .prepare("SELECT * FROM phase_attempts WHERE run = ? ORDER BY id")
      .all(run) as AttemptRow[];
    return rows.map(toAttempt);
  }
}

function toAttempt(row: AttemptRow): PhaseAttempt {
  return {
    id: row.id,
    run: row.run,
    plan: row.plan,
    phaseIndex: row.phase_index,
    kind: row.kind as AttemptKind,
    name: row.name,
    state: row.state as AttemptState,
    startedAt: row.started_at,
    measureFrom: row.measure_from,
    trainingStartedAt: row.training_started_at,
    endedAt: row.ended_at,
    workers: row.workers,
    batch: row.batch,
    configBefore: row.config_before,
    configAfter: row.config_after,
    result: row.result_json ? (JSON.parse(row.result_json) as Record<string, unknown>) : null,
    reason: row.reason,
    rolledBackAt: row.rolled_back_at,
    paused: row.paused === 1,
    actor: row.actor,
  };
}
