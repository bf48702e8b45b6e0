import type { RunConfig } from "../config/schema.ts";
import { writeConfig } from "./config-write.ts";
import { failedSinceRestart, restartForOperation } from "./operation-restart.ts";
import type { OpsContext } from "./ops-context.ts";
import { rollbackTarget } from "./previews.ts";
import { RestartError } from "./restart.ts";
import type { Actor, OperationResult, ProgressCallback } from "./run-operations.ts";
import { noticeMessage, phaseLabel } from "./verdict-message.ts";

/**
 * Restores the last passed config and restarts (automatic or on request); marks the attempt it
 * replaces as rolled back. `current` is the config as it is now.
 */
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
      run.name,
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
