/**
 * What the chat layer and the CLI ask of the operations side (phase engine, config editing,
 * restart). One implementation serves both, so `/train next-phase` and `trainops next-phase`
 * run the same code.
 */

/**
 * What a person may set, wherever they set it (chat options, `trainops set`): one source, so
 * the help text, Discord's option ranges and the check that refuses agree.
 */
export const SETTING_LIMITS = {
  workers: { min: 1, max: 64 },
  batch: { min: 1, max: 4096 },
} as const;

/** One key of the training YAML that a change touches. */
export interface ConfigChange {
  /** Dotted key, e.g. `training.workers`. */
  key: string;
  before: unknown;
  after: unknown;
}

/** Kinds of change a person can ask for. */
export type OperationKind = "next-phase" | "set" | "rollback" | "restart";

/**
 * What a change would do, shown before Confirm / Cancel. Stable across a bot restart: the
 * confirmation stores it and `apply` re-checks that the config still matches `changes[].before`.
 */
export interface ChangePreview {
  run: string;
  kind: OperationKind;
  /** e.g. "Phase 3: Increase workers to 4". */
  title: string;
  changes: ConfigChange[];
  /** before → after lines of the YAML, for people. */
  diff: string[];
  /** Risk and expected effect where the plan says them. */
  risk?: string;
  expected?: string[];
  /** The phase this starts, when it starts one (1-based; 0 is the baseline). */
  phase?: { index: number; name: string };
  /** Whether applying restarts training. */
  restarts: boolean;
}

/** How an operation ended. */
export interface OperationResult {
  ok: boolean;
  /** One line for people: "Phase 3 applied; training restarted at step 1200". */
  summary: string;
  details: string[];
  /**
   * Set when the operation did what it was asked but the run is failing anyway (training came
   * back up, then hit an OOM): the front ends show it as a warning, not as done.
   */
  warning?: string | undefined;
}

/** A progress line while an operation runs ("Config written, backup …", "Restarting…"). */
export type ProgressCallback = (line: string) => void;

/** Who asked, for the audit trail and the change lock. */
export interface Actor {
  /** e.g. `discord:456…` or `cli:root`. */
  id: string;
  name: string;
}

/** Raised when an operation is refused before it starts; the message is for people. */
export class OperationRefusedError extends Error {
  override readonly name = "OperationRefusedError";
}

/** The plan, where the run stands, and each phase's results. */
export interface PlanView {
  run: string;
  planName: string;
  /** e.g. "Phase 2: Test batch size 2", with state. */
  current: { index: number; name: string; state: string } | null;
  phases: Array<{
    index: number;
    name: string;
    risk: string;
    state: "pending" | "applying" | "warming" | "evaluating" | "passed" | "failed" | "inconclusive";
    workers: number | null;
    batch: number | null;
    stepTimeSeconds: number | null;
    epochTimeSeconds: number | null;
    totalTimeSeconds: number | null;
    /** How many times sooner training ends than at the baseline (phase 0); null until measured. */
    speedup: number | null;
  }>;
  /** How far the current phase's criteria are met, one line each with ✓ / ✗ / …. */
  criteria: string[];
}

export interface RunOperations {
  previewNextPhase(run: string): Promise<ChangePreview>;
  previewSet(run: string, values: { workers?: number; batch?: number }): Promise<ChangePreview>;
  previewRollback(run: string): Promise<ChangePreview>;
  previewRestart(run: string): Promise<ChangePreview>;
  /** Applies a confirmed preview; refuses with OperationRefusedError when unsafe. */
  apply(
    preview: ChangePreview,
    actor: Actor,
    onProgress?: ProgressCallback,
  ): Promise<OperationResult>;
  plan(run: string): Promise<PlanView>;
}
