import type { RunConfig } from "../config/schema.ts";
import { parseDuration } from "../core/duration.ts";
import type { OpsContext } from "./ops-context.ts";
import { RestartError, restartTraining } from "./restart.ts";
import type { OperationResult, ProgressCallback } from "./run-operations.ts";

/**
 * Restarts a run's training for an operation. Alerting is told first that the process may be
 * down for as long as the restart can take, so the stop is not reported as a crash or a stall.
 */
export async function restartForOperation(
  ctx: OpsContext,
  run: RunConfig,
  onProgress: ProgressCallback,
) {
  const r = run.restart;
  const downFor =
    parseDuration(r.interruptTimeout) +
    parseDuration(r.terminateTimeout) +
    parseDuration(r.confirmTimeout) +
    10_000;
  ctx.options.onExpectedStop?.(run.name, ctx.clock.now() + downFor);
  return restartTraining({
    transport: ctx.options.transportFor(run),
    run,
    clock: ctx.clock,
    ...(ctx.options.sleep ? { sleep: ctx.options.sleep } : {}),
    ...(ctx.options.checkEveryMs ? { checkEveryMs: ctx.options.checkEveryMs } : {}),
    onProgress,
  });
}

/** Applies a restart-only preview: restarts the run without touching its config. */
export async function restartOnly(
  ctx: OpsContext,
  run: RunConfig,
  onProgress: ProgressCallback,
): Promise<OperationResult> {
  try {
    const outcome = await restartForOperation(ctx, run, onProgress);
    const latest = ctx.phases.current(run.name);
    if (latest && (latest.state === "warming" || latest.state === "evaluating")) {
      // Warm-up starts over after a restart; the phase keeps being judged from here.
      ctx.phases.update(latest.id, { state: "warming", measureFrom: outcome.confirmedAt });
    }
    return {
      ok: true,
      summary: `${run.name} restarted`,
      details: [`First step: ${outcome.firstStepLine}`],
    };
  } catch (error) {
    if (!(error instanceof RestartError)) throw error;
    return {
      ok: false,
      summary: `Restart of ${run.name} failed: ${error.message}`,
      details: error.output,
    };
  }
}
