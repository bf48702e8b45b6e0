import type { RunConfig } from "../config/schema.ts";
import { parseDuration } from "../core/duration.ts";
import { describeError } from "../model/error-kind-labels.ts";
import { type ClassifiedEvent, FAILURE_KINDS } from "../model/monitoring.ts";
import type { OpsContext } from "./ops-context.ts";
import { RestartError, restartTraining } from "./restart.ts";
import type { OperationResult, ProgressCallback } from "./run-operations.ts";
import { restartSlurmJob, type SlurmResources } from "./slurm-restart.ts";

/**
 * Restarts a run's training for an operation. Alerting is told first that the process may be
 * down for as long as the restart can take, so the stop is not reported as a crash or a stall.
 * The outcome carries the first error since the restart began: a config that OOMs on its first
 * steps has often done so before the new steps were confirmed, and the person must not read
 * "done" next to an OOM alert.
 */
export async function restartForOperation(
  ctx: OpsContext,
  run: RunConfig,
  onProgress: ProgressCallback,
  /** A phase's Slurm resources (plan key `slurm:`), for runs that are Slurm jobs. */
  resources?: SlurmResources,
) {
  const r = run.restart;
  const downFor =
    parseDuration(r.interruptTimeout) +
    parseDuration(r.terminateTimeout) +
    parseDuration(r.confirmTimeout) +
    10_000;
  // Written ahead of the signal, with the journal's step: whoever reads the store (the alert
  // rules, a recovery after this process dies) knows the stop may have been sent.
  ctx.transaction(() => {
    ctx.expectedStops.begin(run.name, ctx.clock.now(), ctx.clock.now() + downFor);
    ctx.journalStep(run.name, "stop-sent");
  });
  const remote = ctx.remote(run);
  const common = {
    clock: ctx.clock,
    ...(ctx.options.sleep ? { sleep: ctx.options.sleep } : {}),
    ...(ctx.options.checkEveryMs ? { checkEveryMs: ctx.options.checkEveryMs } : {}),
    onProgress,
    onStarted: (at: number) =>
      ctx.transaction(() => {
        ctx.expectedStops.started(run.name, at);
        ctx.journalStep(run.name, "started");
      }),
  };
  const slurm = run.slurm;
  // A Slurm run is resubmitted (scancel/requeue, sbatch) with the phase's resources.
  const outcome = slurm
    ? await restartSlurmJob({
        ...common,
        transport: remote.transport,
        run: { ...run, slurm },
        jobs: ctx.slurmJobs,
        resources,
      })
    : await restartTraining({ ...common, remote });
  ctx.journalStep(run.name, "confirmed");
  // The log as read at confirmation, else what the monitor stored meanwhile (a kernel OOM kill
  // is not in the log).
  const failure =
    outcome.failure ??
    ctx.events
      .range(run.name, outcome.startedAt, ctx.clock.now() + 1)
      .find((event) => FAILURE_KINDS.includes(event.kind)) ??
    null;
  return { ...outcome, failure };
}

/**
 * The warning for an operation whose training came back but has failed since (see
 * {@link restartForOperation}); undefined when nothing failed.
 */
export function failedSinceRestart(
  failure: Pick<ClassifiedEvent, "kind" | "line"> | null,
): string | undefined {
  if (!failure) return undefined;
  const line = failure.line.length > 200 ? `${failure.line.slice(0, 199)}…` : failure.line;
  return `Training started, then failed: ${describeError(failure.kind, line)}`;
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
      // Warm-up starts over after a restart; the phase keeps being judged from here. Its errors
      // still count from its own start: an OOM just before this restart was the phase's.
      ctx.phases.update(latest.id, { state: "warming", measureFrom: outcome.confirmedAt });
    }
    return {
      ok: true,
      summary: `${run.name} restarted`,
      details: [`First step: ${outcome.firstStepLine}`],
      warning: failedSinceRestart(outcome.failure),
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
