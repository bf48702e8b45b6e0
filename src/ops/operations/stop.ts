import { z } from "zod";
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

const schema = z.object({ kind: z.literal("stop"), ...previewCommon });

/**
 * How long the rules treat a stopped run as stopped on purpose: the crash and stall alerts stay
 * quiet this long (errors the process logs after the stop still alert).
 */
const STOPPED_ON_PURPOSE_MS = 24 * 3_600_000;

/**
 * Stops training and leaves it stopped (a NaN loss wastes every later step): SIGINT so the job
 * can save, then SIGTERM, then SIGKILL, like a restart's stop. Nothing is started again; the
 * config is untouched; `/train restart` resumes.
 */
export const stopOperation: Operation<typeof schema> = {
  kind: "stop",
  schema,
  async preview(ctx, run) {
    if (run.slurm) {
      throw new OperationRefusedError(
        `${run.name} is a Slurm job; cancel it with scancel on the login node (stop signals processes on a VM)`,
      );
    }
    if (run.restart.systemdUnit) {
      throw new OperationRefusedError(
        `${run.name} runs as systemd unit ${run.restart.systemdUnit}; stop it with systemctl stop`,
      );
    }
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
  },
  apply: (ctx, { run, onProgress }) => stopOnly(ctx, run, onProgress),
};

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
