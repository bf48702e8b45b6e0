import * as z from "zod";
import type { ChangePreview, OperationKind } from "./operations/index.ts";

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

export type { ChangePreview, OperationKind, PreviewOf } from "./operations/index.ts";

/** What a person typed for a change, beyond the run (only `set` takes values). */
export interface OperationInput {
  workers?: number;
  batch?: number;
}

/** The phase a preview starts or returns to, when it names one. */
export function previewPhase(preview: ChangePreview): { index: number; name: string } | null {
  return "phase" in preview ? preview.phase : null;
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

/**
 * Who asks for a change: chat says its platform and user, the terminal says `cli` and the login
 * name, the phase engine speaks for itself. Operations record it in the audit trail, the change
 * lock and the phase attempts.
 */
export interface Actor {
  /** `discord`, `slack`, `console`, `cli` or `trainops` (the phase engine, recovery). */
  platform: string;
  /** The platform's user id (the login name for `cli`). */
  userId: string;
  /** For people: "alice", "root (cli)". */
  name: string;
  /** Where it was asked (a chat channel); empty where there is none. */
  channelId: string;
  /**
   * Whether the outcome is announced in chat as a notice: true where nobody in chat saw the
   * request (the terminal); chat itself shows its own outcome in the reply.
   */
  announce?: boolean;
}

/** The actor as the audit trail records who acted: platform, user, name and channel. */
export function actorAuditFields(actor: Actor): {
  platform: string;
  userId: string;
  userName: string;
  channelId: string;
} {
  return {
    platform: actor.platform,
    userId: actor.userId,
    userName: actor.name,
    channelId: actor.channelId,
  };
}

/** The actor as one string (`discord:456…`, `cli:root`): the key of locks and attempts. */
export function actorKey(actor: Pick<Actor, "platform" | "userId">): string {
  return `${actor.platform}:${actor.userId}`;
}

const actorSchema = z.object({
  platform: z.string(),
  userId: z.string(),
  name: z.string(),
  channelId: z.string(),
  announce: z.boolean().optional(),
});

/** Reads a stored actor back (a journal's). */
export function parseActor(stored: unknown): Actor {
  return actorSchema.parse(stored);
}

// In a file of its own so the CLI can name it without loading this module's schemas.
export { OperationRefusedError } from "./operation-refused-error.ts";

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

/** One thing a person or the phase engine can do to a run's training, whoever asks. */
export interface RunOperations {
  /** What `kind` would change on `run` (nothing changes yet); refuses when it cannot apply. */
  preview(kind: OperationKind, run: string, input?: OperationInput): Promise<ChangePreview>;
  /**
   * Applies a confirmed preview (as stored: it is parsed here) for `actor`; records the audit
   * row, expected stop, notices and journal itself. Refuses with OperationRefusedError when
   * unsafe (the refusal is audited too).
   */
  apply(preview: unknown, actor: Actor, onProgress?: ProgressCallback): Promise<OperationResult>;
  plan(run: string): Promise<PlanView>;
}
