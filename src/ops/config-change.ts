import type { RunConfig } from "../config/schema.ts";
import type { PhaseAttempt } from "../store/phases-repo.ts";
import { writeConfig } from "./config-write.ts";
import type { AppliedChange } from "./operation.ts";
import { failedSinceRestart, restartForOperation } from "./operation-restart.ts";
import type { OpsContext } from "./ops-context.ts";
import { judgingLine } from "./phase-spec.ts";
import { RestartError } from "./restart.ts";
import { rollbackWith } from "./rollback-to.ts";
import {
  type ChangePreview,
  type ConfigChange,
  OperationRefusedError,
  type OperationResult,
} from "./run-operations.ts";
import type { SlurmResources } from "./slurm-restart.ts";
import { noticeMessage, phaseLabel } from "./verdict-message.ts";
import { editYaml, readKeys, type ScalarValue } from "./yaml-edit.ts";

/**
 * The run's training config as it is now, refusing when a key the preview showed no longer holds
 * what it showed (someone edited the YAML since): the person confirmed that diff, not another.
 */
export async function currentConfigAsPreviewed(
  ctx: OpsContext,
  run: RunConfig,
  changes: readonly ConfigChange[],
): Promise<string> {
  const text = await ctx
    .editor(run)
    .read()
    .catch((error: Error) => {
      throw new OperationRefusedError(
        `cannot read ${run.name}'s training config: ${error.message}`,
      );
    });
  const now = readKeys(
    text,
    changes.map((c) => c.key),
  );
  for (const change of changes) {
    if (JSON.stringify(now[change.key] ?? null) !== JSON.stringify(change.before ?? null)) {
      throw new OperationRefusedError(
        `${change.key} is now ${JSON.stringify(now[change.key] ?? null)}, not ${JSON.stringify(change.before)} as previewed; preview again`,
      );
    }
  }
  return text;
}

/**
 * Sets keys of the training config as a new phase attempt, restarts training and, when it does
 * not come back up, restores the last passed config. Shared by next-phase and set.
 */
export async function applyConfigEdit(
  ctx: OpsContext,
  change: AppliedChange<ChangePreview>,
  text: string,
  set: Record<string, ScalarValue>,
  attemptFields: Pick<PhaseAttempt, "kind" | "phaseIndex" | "name">,
  /** A phase's Slurm resources (plan key `slurm:`), for runs that are Slurm jobs. */
  resources?: SlurmResources,
): Promise<OperationResult> {
  const { run, preview, actor, onProgress } = change;
  const edit = editYaml(text, set);
  const keys = ctx.keys(run);
  const values = readKeys(edit.text, [keys.workers, keys.batch]);
  const attempt = ctx.transaction(() => {
    const created = ctx.phases.create({
      run: run.name,
      plan: ctx.plan(run)?.name ?? "",
      ...attemptFields,
      state: "applying",
      startedAt: ctx.clock.now(),
      measureFrom: null,
      endedAt: null,
      workers: toInt(values[keys.workers]),
      batch: toInt(values[keys.batch]),
      configBefore: text,
      configAfter: edit.text,
      result: null,
      reason: null,
      rolledBackAt: null,
      paused: false,
      actor: `${actor.platform}:${actor.userId}`,
    });
    ctx.journalStep(run.name, "locked", { attemptId: created.id });
    return created;
  });
  // Retrying a phase whose config is already in place restarts without a write.
  if (edit.text !== text) {
    await writeConfig(ctx, run, text, edit.text, preview.kind, actor, onProgress);
  }
  try {
    const outcome = await restartForOperation(ctx, run, onProgress, resources);
    ctx.phases.update(attempt.id, {
      state: "warming",
      measureFrom: outcome.confirmedAt,
      trainingStartedAt: outcome.startedAt,
    });
    const plan = ctx.plan(run);
    const warning = failedSinceRestart(outcome.failure);
    return {
      ok: true,
      summary: `${preview.title} applied; training restarted`,
      details: [
        `First step: ${outcome.firstStepLine}`,
        ...preview.diff,
        // Already failing: the verdict is a matter of the next poll, not of the hold.
        ...(plan && !warning ? [judgingLine(plan, attempt, run.autoRollback)] : []),
      ],
      warning,
    };
  } catch (error) {
    if (!(error instanceof RestartError)) throw error;
    return failedStart(ctx, change, attempt, error);
  }
}

async function failedStart(
  ctx: OpsContext,
  change: AppliedChange<ChangePreview>,
  attempt: PhaseAttempt,
  error: RestartError,
): Promise<OperationResult> {
  const { run, actor, onProgress } = change;
  const reason = `training did not come back after the change: ${error.message}`;
  const label = phaseLabel(attempt);
  const canRollBack = run.autoRollback && ctx.phases.lastPassed(run.name) !== null;
  ctx.transaction(() => {
    ctx.phases.update(attempt.id, {
      state: "failed",
      endedAt: ctx.clock.now(),
      reason,
      ...(canRollBack ? {} : { paused: true }),
    });
    ctx.notify(
      run.name,
      noticeMessage(run.name, "critical", `${label} failed to start`, [
        `${label} failed: ${reason}.`,
        ...error.output.map((l) => `> ${l}`),
        canRollBack
          ? "Rolling back to the last passed config and restarting."
          : `Roll back with /train rollback ${run.name}.`,
      ]),
      `phase:${run.name}:${attempt.id}:failed`,
    );
  });
  if (!canRollBack) {
    return { ok: false, summary: `${label} failed: ${reason}`, details: error.output };
  }
  onProgress("Restart failed; rolling back to the last passed config…");
  const current = await ctx.editor(run).read();
  const rolled = await rollbackWith(ctx, run, current, actor, onProgress);
  ctx.notify(
    run.name,
    noticeMessage(
      run.name,
      rolled.ok ? "warning" : "critical",
      rolled.ok ? "rolled back" : "rollback failed",
      [rolled.summary, ...rolled.details],
    ),
    `rollback:${run.name}:${attempt.id}`,
  );
  return {
    ok: false,
    summary: `${label} failed: ${reason}. ${rolled.summary}`,
    details: [...error.output, ...rolled.details],
  };
}

function toInt(value: unknown): number | null {
  return typeof value === "number" && Number.isInteger(value) ? value : null;
}
