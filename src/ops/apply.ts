import type { RunConfig } from "../config/schema.ts";
import type { PhaseAttempt } from "../store/phases-repo.ts";
import { withChangeLock } from "./change-lock.ts";
import { writeConfig } from "./config-write.ts";
import { failedSinceRestart, restartForOperation, restartOnly } from "./operation-restart.ts";
import type { OpsContext } from "./ops-context.ts";
import { judgingLine } from "./phase-spec.ts";
import { nextPhaseIndex, rollbackTarget, validatedSet } from "./previews.ts";
import { RestartError } from "./restart.ts";
import {
  type Actor,
  type ChangePreview,
  type ConfigChange,
  OperationRefusedError,
  type OperationResult,
  type ProgressCallback,
} from "./run-operations.ts";
import type { SlurmResources } from "./slurm-restart.ts";
import { noticeMessage, phaseLabel } from "./verdict-message.ts";
import { editYaml, readKeys, type ScalarValue } from "./yaml-edit.ts";

/**
 * Applies a confirmed preview: re-checks that the run's state is known and the config still
 * holds what the preview showed, takes the run's change lock, writes, restarts and, when a
 * change does not come back up, restores the last passed config.
 */
export async function applyPreview(
  ctx: OpsContext,
  preview: ChangePreview,
  actor: Actor,
  onProgress: ProgressCallback = () => {},
): Promise<OperationResult> {
  const run = ctx.run(preview.run);
  ctx.assertKnownState(run.name);
  return withChangeLock(ctx, run.name, actor, preview.kind, async () => {
    if (preview.kind === "restart") return restartOnly(ctx, run, onProgress);
    const editor = ctx.editor(run);
    const text = await editor.read().catch((error: Error) => {
      throw new OperationRefusedError(
        `cannot read ${run.name}'s training config: ${error.message}`,
      );
    });
    assertUnchanged(text, preview.changes);
    if (preview.kind === "rollback") return rollbackWith(ctx, run, text, actor, onProgress);
    let set: Record<string, ScalarValue>;
    let attemptFields: Pick<PhaseAttempt, "kind" | "phaseIndex" | "name">;
    let resources: SlurmResources | undefined;
    if (preview.kind === "next-phase") {
      const plan = ctx.requirePlan(run);
      const index = nextPhaseIndex(ctx, run, plan);
      if (preview.phase?.index !== index) {
        throw new OperationRefusedError(
          `the next phase is now ${index}, not ${preview.phase?.index}; preview again`,
        );
      }
      const phase = plan.phases[index - 1];
      if (!phase) throw new OperationRefusedError(`the plan has no phase ${index}`);
      set = phase.set;
      resources = phase.slurm;
      attemptFields = { kind: "phase", phaseIndex: index, name: phase.name };
    } else {
      set = setFromChanges(ctx, run, preview.changes);
      const base = ctx.phases.lastPassed(run.name);
      attemptFields = { kind: "manual", phaseIndex: base?.phaseIndex ?? 0, name: preview.title };
    }
    const edit = editYaml(text, set);
    const keys = ctx.keys(run);
    const values = readKeys(edit.text, [keys.workers, keys.batch]);
    const attempt = ctx.phases.create({
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
      actor: actor.id,
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
      return failedStart(ctx, run, attempt, error, actor, onProgress);
    }
  });
}

/** Restores the last passed config and restarts (automatic or on request). */
export async function rollbackWith(
  ctx: OpsContext,
  run: RunConfig,
  current: string,
  actor: Actor,
  onProgress: ProgressCallback,
): Promise<OperationResult> {
  const target = rollbackTarget(ctx, run.name);
  const latest = ctx.phases.current(run.name);
  if (latest && latest.id !== target.id && latest.rolledBackAt === null) {
    const inProgress = ["applying", "warming", "evaluating"].includes(latest.state);
    ctx.phases.update(latest.id, {
      rolledBackAt: ctx.clock.now(),
      paused: false,
      ...(inProgress
        ? { state: "failed", endedAt: ctx.clock.now(), reason: `rolled back by ${actor.name}` }
        : {}),
    });
  }
  const label = `${phaseLabel(target)}${target.kind === "phase" ? ` (${target.name})` : ""}`;
  if (current !== target.configAfter) {
    await writeConfig(
      ctx,
      run,
      current,
      target.configAfter as string,
      "rollback",
      actor,
      onProgress,
    );
  }
  try {
    const outcome = await restartForOperation(ctx, run, onProgress);
    return {
      ok: true,
      summary: `Rolled back ${run.name} to ${label}'s config; training restarted`,
      details: [`First step: ${outcome.firstStepLine}`],
      warning: failedSinceRestart(outcome.failure),
    };
  } catch (error) {
    if (!(error instanceof RestartError)) throw error;
    ctx.notify(
      noticeMessage(run.name, "critical", "rollback did not restart training", [
        `The config is back to ${label}'s, but training did not come back: ${error.message}.`,
        `Check the VM by hand (start: ${run.start ?? run.restart.systemdUnit}).`,
        ...error.output,
      ]),
      `rollback-restart:${run.name}:${ctx.clock.now()}`,
    );
    return {
      ok: false,
      summary: `Config rolled back to ${label}'s, but training did not restart: ${error.message}`,
      details: error.output,
    };
  }
}

async function failedStart(
  ctx: OpsContext,
  run: RunConfig,
  attempt: PhaseAttempt,
  error: RestartError,
  actor: Actor,
  onProgress: ProgressCallback,
): Promise<OperationResult> {
  const reason = `training did not come back after the change: ${error.message}`;
  ctx.phases.update(attempt.id, { state: "failed", endedAt: ctx.clock.now(), reason });
  const label = phaseLabel(attempt);
  const canRollBack = run.autoRollback && ctx.phases.lastPassed(run.name) !== null;
  ctx.notify(
    noticeMessage(run.name, "critical", `${label} failed to start`, [
      `${label} failed: ${reason}.`,
      ...error.output.map((l) => `> ${l}`),
      canRollBack
        ? "Rolling back to the last passed config and restarting."
        : `Roll back with /train rollback ${run.name}.`,
    ]),
    `phase:${run.name}:${attempt.id}:failed`,
  );
  if (!canRollBack) {
    ctx.phases.update(attempt.id, { paused: true });
    return { ok: false, summary: `${label} failed: ${reason}`, details: error.output };
  }
  onProgress("Restart failed; rolling back to the last passed config…");
  const current = await ctx.editor(run).read();
  const rolled = await rollbackWith(ctx, run, current, actor, onProgress);
  ctx.notify(
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

function assertUnchanged(text: string, changes: readonly ConfigChange[]): void {
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
}

function setFromChanges(
  ctx: OpsContext,
  run: RunConfig,
  changes: readonly ConfigChange[],
): Record<string, ScalarValue> {
  const keys = ctx.keys(run);
  const values: { workers?: number; batch?: number } = {};
  for (const change of changes) {
    if (change.key === keys.workers) values.workers = change.after as number;
    else if (change.key === keys.batch) values.batch = change.after as number;
    else
      throw new OperationRefusedError(
        `set may change only ${keys.workers} and ${keys.batch}, not ${change.key}`,
      );
  }
  return validatedSet(ctx, run, values);
}

function toInt(value: unknown): number | null {
  return typeof value === "number" && Number.isInteger(value) ? value : null;
}
