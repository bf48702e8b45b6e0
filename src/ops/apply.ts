import { withChangeLock } from "./change-lock.ts";
import { type ChangePreview, operationFor, parseChangePreview } from "./operations/index.ts";
import type { OpsContext } from "./ops-context.ts";
import {
  type Actor,
  actorAuditFields,
  OperationRefusedError,
  type OperationResult,
  type ProgressCallback,
  previewPhase,
} from "./run-operations.ts";

/**
 * Applies a confirmed preview, whoever asks (chat, the CLI, the phase engine): parses it (it may
 * come from the store), re-checks that the run's state is known, and runs its operation holding
 * the run's change lock, journalled and audited (see withChangeLock). A refusal is audited too.
 */
export async function applyPreview(
  ctx: OpsContext,
  stored: unknown,
  actor: Actor,
  onProgress: ProgressCallback = () => {},
): Promise<OperationResult> {
  let preview: ChangePreview;
  try {
    preview = parseChangePreview(stored);
    ctx.run(preview.run);
    ctx.assertKnownState(preview.run);
  } catch (error) {
    if (error instanceof OperationRefusedError) auditRefusal(ctx, stored, actor, error.message);
    throw error;
  }
  const run = ctx.run(preview.run);
  const operation = operationFor(preview.kind);
  return withChangeLock(
    ctx,
    run.name,
    actor,
    { kind: preview.kind, preview, args: auditArgs(preview) },
    () => operation.apply(ctx, { run, preview, actor, onProgress }),
  );
}

/** A change's arguments as the audit trail shows them: the phase, and each key's new value. */
export function auditArgs(preview: ChangePreview): Record<string, string> {
  const phase = previewPhase(preview);
  return {
    ...(phase ? { phase: String(phase.index) } : {}),
    ...Object.fromEntries(preview.changes.map((c) => [c.key, JSON.stringify(c.after)])),
  };
}

function auditRefusal(ctx: OpsContext, stored: unknown, actor: Actor, detail: string): void {
  const loose = (stored ?? {}) as { run?: unknown; kind?: unknown };
  ctx.audit.record({
    at: ctx.clock.now(),
    ...actorAuditFields(actor),
    run: typeof loose.run === "string" ? loose.run : null,
    command: typeof loose.kind === "string" ? loose.kind : "apply",
    args: {},
    outcome: "refused",
    detail,
  });
}
