import type { ChangeLock } from "../store/change-locks-repo.ts";
import { applyPreview } from "./apply.ts";
import { recoverAbandoned, unlockRun } from "./change-lock.ts";
import { type ChangePreview, operationFor } from "./operations/index.ts";
import { OpsContext, type OpsOptions } from "./ops-context.ts";
import { PhaseEngine } from "./phase-engine.ts";
import { buildPlanView } from "./plan-view.ts";
import type { Actor, RunOperations } from "./run-operations.ts";

/** The run operations (previews, apply, plan) and the phase engine, over one set of seams. */
export interface Operations extends RunOperations {
  /** Called after every poll by the daemon: judges the current phase and moves the plan on. */
  readonly engine: PhaseEngine;
  /**
   * Rolls forward or back a change of `run` whose holder died (see recoverAbandoned); returns
   * how many were recovered. The daemon's phase engine does this at its first tick for every
   * run, and a change taking a dead holder's lock does it first; this entry is for callers
   * outside both.
   */
  recover(run: string): Promise<number>;
  /** Removes the run's change lock whoever holds it (audited); returns what was removed. */
  unlock(run: string, actor: Actor): ChangeLock | null;
}

/**
 * Builds the operations the chat layer and the CLI call, and the phase engine the daemon ticks.
 * Every seam (store, transport per run, clock) is injected; what an operation implies (expected
 * stop, audit row, notices, journal) it writes to the store itself.
 */
export function createRunOperations(options: OpsOptions): Operations {
  const ctx = new OpsContext(options);
  const engine = new PhaseEngine(ctx);
  return {
    engine,
    preview: async (kind, run, input = {}) =>
      (await operationFor(kind).preview(ctx, ctx.run(run), input)) as ChangePreview,
    apply: (preview, actor, onProgress) => applyPreview(ctx, preview, actor, onProgress),
    plan: async (run) => buildPlanView(ctx, run),
    recover: (run) => recoverAbandoned(ctx, run),
    unlock: (run, actor) => unlockRun(ctx, run, actor),
  };
}

export type { OpsOptions } from "./ops-context.ts";
