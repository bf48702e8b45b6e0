import * as z from "zod";
import type { RunConfig } from "../../config/schema.ts";
import { parseDuration } from "../../core/duration.ts";
import type { Operation } from "../operation.ts";
import type { OpsContext } from "../ops-context.ts";
import { previewCommon } from "../preview-schema.ts";
import { findTrainingPids, RestartError, stopTraining } from "../restart.ts";
import {
  OperationRefusedError,
  type OperationResult,
  type ProgressCallback,
} from "../run-operations.ts";
import { pausePhaseForStop } from "../stop-pauses-phase.ts";
import { stopSlurmRun, stopSlurmRunPreview } from "../stop-slurm-run.ts";
import { stopSystemdRun, stopSystemdRunPreview } from "../stop-systemd-run.ts";
import { launchKind, STOPPED_ON_PURPOSE_MS } from "../stop-target.ts";

const schema = z.object({
  kind: z.literal("stop"),
  ...previewCommon,
  /** The Slurm job the person confirmed cancelling (Slurm runs only). */
  slurmJob: z.string().optional(),
});

/** A stop's preview. */
export type StopPreview = z.infer<typeof schema>;

/**
 * Stops training and leaves it stopped (a NaN loss wastes every later step), however the run
 * was launched: a process on a VM gets SIGINT so the job can save, then SIGTERM, then SIGKILL,
 * like a restart's stop; a Slurm job is cancelled with `scancel`; a systemd unit is stopped with
 * `systemctl stop`. Nothing is started again; the config is untouched; `/train restart` resumes.
 */
export const stopOperation: Operation<typeof schema> = {
  kind: "stop",
  schema,
  async preview(ctx, run) {
    const launch = launchKind(run);
    switch (launch.kind) {
      case "slurm":
        return stopSlurmRunPreview(ctx, launch.run);
      case "systemd":
        return stopSystemdRunPreview(ctx, run, launch.unit);
      case "process":
        return processPreview(ctx, run);
    }
  },
  async apply(ctx, { run, preview, actor, onProgress }) {
    const result = await stopAsLaunched(ctx, run, preview, onProgress);
    if (result.ok) pausePhaseForStop(ctx, run.name, actor.name);
    return result;
  },
};

function stopAsLaunched(
  ctx: OpsContext,
  run: RunConfig,
  preview: StopPreview,
  onProgress: ProgressCallback,
): Promise<OperationResult> {
  const launch = launchKind(run);
  switch (launch.kind) {
    case "slurm":
      return stopSlurmRun(ctx, launch.run, preview.slurmJob, onProgress);
    case "systemd":
      return stopSystemdRun(ctx, run, launch.unit, onProgress);
    case "process":
      return stopOnly(ctx, run, onProgress);
  }
}

async function processPreview(ctx: OpsContext, run: RunConfig): Promise<StopPreview> {
  const pids = await pidsOrRefuse(ctx, run);
  if (pids.length === 0) {
    throw new OperationRefusedError(`training of ${run.name} is not running; nothing to stop`);
  }
  return {
    run: run.name,
    kind: "stop",
    title: `Stop training of ${run.name}`,
    changes: [],
    diff: [],
    risk: `Training stays stopped until \`/train restart\`; SIGINT first so it can save (process${pids.length > 1 ? "es" : ""} ${pids.join(", ")})`,
    restarts: false,
  };
}

async function pidsOrRefuse(ctx: OpsContext, run: RunConfig): Promise<number[]> {
  try {
    return await findTrainingPids(ctx.remote(run).transport, run);
  } catch (error) {
    if (error instanceof RestartError) throw new OperationRefusedError(error.message);
    throw error;
  }
}

async function stopOnly(
  ctx: OpsContext,
  run: RunConfig,
  onProgress: ProgressCallback,
): Promise<OperationResult> {
  // Written ahead of the signal: the rules read the stop as asked for, not as a crash, and
  // what the process logs on its way out does not alert.
  const stopBudget =
    parseDuration(run.restart.interruptTimeout) + parseDuration(run.restart.terminateTimeout);
  ctx.transaction(() => {
    ctx.expectedStops.begin(
      run.name,
      ctx.clock.now(),
      ctx.clock.now() + Math.max(STOPPED_ON_PURPOSE_MS, stopBudget),
    );
    ctx.journalStep(run.name, "stop-sent");
  });
  try {
    const stopped = await stopTraining({
      remote: ctx.remote(run),
      clock: ctx.clock,
      ...(ctx.options.sleep ? { sleep: ctx.options.sleep } : {}),
      ...(ctx.options.checkEveryMs ? { checkEveryMs: ctx.options.checkEveryMs } : {}),
      onProgress,
    });
    // From here on the run's own errors count again (a process someone starts by hand).
    ctx.transaction(() => {
      ctx.expectedStops.started(run.name, ctx.clock.now());
      ctx.journalStep(run.name, "confirmed");
    });
    if (stopped.pids.length === 0) {
      return {
        ok: true,
        summary: `Training of ${run.name} had already stopped`,
        details: ["Nothing was signalled. `/train restart` starts it again."],
      };
    }
    return {
      ok: true,
      summary: `Training of ${run.name} stopped (SIG${stopped.signal})`,
      details: [
        `Stopped process${stopped.pids.length > 1 ? "es" : ""} ${stopped.pids.join(", ")}.`,
        "It stays stopped; fix the cause, then `/train restart` resumes from the last checkpoint.",
      ],
    };
  } catch (error) {
    if (!(error instanceof RestartError)) throw error;
    return {
      ok: false,
      summary: `Stopping ${run.name} failed: ${error.message}`,
      details: error.output,
    };
  }
}
