import type { RunConfig, SlurmRunConfig } from "../config/schema.ts";
import { formatDuration } from "../core/duration.ts";
import { isSlurmEnded, type SlurmJob } from "../model/slurm-job.ts";
import type { OpsContext } from "./ops-context.ts";
import { RestartError } from "./restart.ts";
import {
  OperationRefusedError,
  type OperationResult,
  type ProgressCallback,
} from "./run-operations.ts";
import type { LoginNode } from "./slurm-login-node.ts";
import { cancelSlurmJob, endedOnItsOwn, liveSlurmJob } from "./slurm-stop.ts";
import { STOPPED_ON_PURPOSE_MS, type StopPreviewDraft, stopDraft } from "./stop-target.ts";

type SlurmRun = RunConfig & { slurm: SlurmRunConfig };

/**
 * How long after a cancelled job ended what it printed on its way out (read by the next polls)
 * is still taken as the stop's, not as news.
 */
const LAST_LINES_GRACE_MS = 5 * 60_000;

function loginNode(ctx: OpsContext, run: SlurmRun): LoginNode {
  return { transport: ctx.remote(run).transport, run, clock: ctx.clock };
}

/**
 * The run's job as Slurm sees it now (the monitor's last view when Slurm forgot it); refuses
 * when no job was seen yet, when Slurm cannot be asked, or when the job has ended already.
 */
async function runningJob(ctx: OpsContext, run: SlurmRun, jobId?: string): Promise<SlurmJob> {
  const stored = jobId ? ctx.slurmJobs.get(run.name, jobId) : ctx.slurmJobs.current(run.name);
  const id = jobId ?? stored?.job.jobId;
  if (!id) {
    throw new OperationRefusedError(
      `no Slurm job of ${run.name} seen yet; wait for a poll (trainops poll --once --run ${run.name})`,
    );
  }
  let job: SlurmJob | null;
  try {
    job = await liveSlurmJob(loginNode(ctx, run), id, stored?.job ?? null);
  } catch (error) {
    if (error instanceof RestartError) {
      throw new OperationRefusedError(`cannot ask Slurm about job ${id}: ${error.message}`);
    }
    throw error;
  }
  if (!job || isSlurmEnded(job.state)) {
    throw new OperationRefusedError(
      `Slurm job ${id} of ${run.name} already ended (${job?.state ?? "gone from Slurm"}); nothing to stop`,
    );
  }
  return job;
}

/** What stopping a Slurm run would do: scancel its current job. */
export async function stopSlurmRunPreview(
  ctx: OpsContext,
  run: SlurmRun,
): Promise<StopPreviewDraft> {
  const job = await runningJob(ctx, run);
  const where = job.nodes.length ? ` on ${job.nodes.join(", ")}` : "";
  return {
    ...stopDraft(
      run.name,
      `Cancels Slurm job ${job.jobId} (${job.state}${where}) with scancel: Slurm sends SIGTERM, then SIGKILL after its KillWait. It stays stopped until \`/train restart\` resubmits it`,
    ),
    slurmJob: job.jobId,
  };
}

/**
 * Cancels the Slurm job the person confirmed (the run's current one when the preview names
 * none). Before scancel, in one transaction: the job is marked as cancelled by trainops (its
 * end raises no job-end alert), the stop as expected, the journal's step. When scancel fails,
 * or the job turns out to have ended on its own first, both marks are taken back.
 */
export async function stopSlurmRun(
  ctx: OpsContext,
  run: SlurmRun,
  confirmedJob: string | undefined,
  onProgress: ProgressCallback,
): Promise<OperationResult> {
  const job = await runningJob(ctx, run, confirmedJob);
  const jobId = job.jobId;
  const notedAt = ctx.clock.now();
  ctx.transaction(() => {
    ctx.expectedStops.begin(run.name, notedAt, notedAt + STOPPED_ON_PURPOSE_MS);
    ctx.slurmJobs.noteCancelled(run.name, jobId);
    ctx.journalStep(run.name, "stop-sent");
  });
  const takeBack = () =>
    ctx.transaction(() => {
      ctx.slurmJobs.clearCancelled(run.name, jobId);
      ctx.expectedStops.begin(run.name, notedAt, ctx.clock.now());
    });
  let outcome: Awaited<ReturnType<typeof cancelSlurmJob>>;
  try {
    outcome = await cancelSlurmJob(
      {
        ...loginNode(ctx, run),
        ...(ctx.options.sleep ? { sleep: ctx.options.sleep } : {}),
        ...(ctx.options.checkEveryMs ? { checkEveryMs: ctx.options.checkEveryMs } : {}),
        onProgress,
      },
      jobId,
    );
  } catch (error) {
    if (!(error instanceof RestartError)) throw error;
    takeBack();
    return {
      ok: false,
      summary: `Stopping ${run.name} failed: ${error.message}`,
      details: [
        `Slurm job ${jobId} was not cancelled and runs on. Check that the SSH user may cancel it (\`scancel ${jobId}\` on the login node), then retry.`,
      ],
    };
  }
  if (outcome.kind === "cancelled" && endedOnItsOwn(outcome.state)) {
    takeBack();
    return {
      ok: false,
      summary: `Slurm job ${jobId} of ${run.name} ended on its own (${outcome.state}) before the cancel`,
      details: ["Nothing was cancelled; the job-end alert says how it ended."],
    };
  }
  const now = ctx.clock.now();
  ctx.transaction(() => {
    // What the job printed on its way out is read by the next polls: still the stop's.
    ctx.expectedStops.begin(run.name, notedAt, now + LAST_LINES_GRACE_MS);
    ctx.journalStep(run.name, "confirmed");
  });
  const next = "It stays stopped; fix the cause, then `/train restart` resubmits it.";
  if (outcome.kind === "ending") {
    return {
      ok: true,
      summary: `Slurm job ${jobId} of ${run.name} cancelled; still ${outcome.state} after ${formatDuration(now - notedAt)}`,
      details: ["Slurm ends it after its KillWait; `/train status` shows when.", next],
    };
  }
  return {
    ok: true,
    summary: `Training of ${run.name} stopped: Slurm job ${jobId} cancelled (${outcome.state})`,
    details: [next],
  };
}
