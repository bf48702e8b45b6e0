import { applyPreview } from "./apply.ts";
import { OpsContext, type OpsOptions } from "./ops-context.ts";
import { PhaseEngine } from "./phase-engine.ts";
import { buildPlanView } from "./plan-view.ts";
import { previewNextPhase, previewRestart, previewRollback, previewSet } from "./previews.ts";
import type { RunOperations } from "./run-operations.ts";

/** The run operations (previews, apply, plan) and the phase engine, over one set of seams. */
export interface Operations extends RunOperations {
  /** Called after every poll by the daemon: judges the current phase and moves the plan on. */
  readonly engine: PhaseEngine;
}

/**
 * Builds the operations the chat layer and the CLI call, and the phase engine the daemon ticks.
 * Every seam (store, transport per run, clock, notify, expected-stop hook) is injected.
 */
export function createRunOperations(options: OpsOptions): Operations {
  const ctx = new OpsContext(options);
  const engine = new PhaseEngine(ctx);
  return {
    engine,
    previewNextPhase: (run) => previewNextPhase(ctx, run),
    previewSet: (run, values) => previewSet(ctx, run, values),
    previewRollback: (run) => previewRollback(ctx, run),
    previewRestart: (run) => previewRestart(ctx, run),
    apply: (preview, actor, onProgress) => applyPreview(ctx, preview, actor, onProgress),
    plan: async (run) => buildPlanView(ctx, run),
  };
}

export type { OpsOptions } from "./ops-context.ts";
