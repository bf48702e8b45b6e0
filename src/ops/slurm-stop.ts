import { parseDuration } from "../core/duration.ts";
import { isSlurmEnded, type SlurmJob } from "../model/slurm-job.ts";
import { shellQuote } from "../transport/shell-quote.ts";
import { type LoginNode, runOnLoginNode, showSlurmJob } from "./slurm-login-node.ts";

/**
 * Time Slurm may take from scancel to the job's end beyond the run's stop budget: it sends
 * SIGTERM, then SIGKILL after the cluster's KillWait (30 s by default), then cleans up.
 */
const SLURM_END_MARGIN_MS = 60_000;

/** What stopping a Slurm job needs. */
export interface SlurmStopOptions extends LoginNode {
  sleep?: (ms: number) => Promise<void>;
  checkEveryMs?: number;
  onProgress?: (line: string) => void;
}

/**
 * How a cancel ended: the job's final state, or the state it was still ending in when the wait
 * gave up (Slurm ends it later).
 */
export type SlurmStopOutcome =
  | { kind: "cancelled"; jobId: string; state: string }
  | { kind: "ending"; jobId: string; state: string };

/**
 * The job as Slurm sees it now; when Slurm no longer knows it (past MinJobAge), the state the
 * monitor last stored for it (`stored`), else null.
 */
export async function liveSlurmJob(
  node: LoginNode,
  jobId: string,
  stored: SlurmJob | null,
): Promise<SlurmJob | null> {
  return (await showSlurmJob(node, jobId)) ?? stored;
}

/**
 * Cancels the job with `scancel` (Slurm sends its steps SIGTERM, then SIGKILL after KillWait)
 * and waits until Slurm reports it ended. Throws a RestartError with Slurm's words when scancel
 * fails. The caller records beforehand that trainops cancels it, so its end raises no alert.
 */
export async function cancelSlurmJob(
  options: SlurmStopOptions,
  jobId: string,
): Promise<SlurmStopOutcome> {
  const { run, clock } = options;
  const progress = options.onProgress ?? (() => {});
  const sleep = options.sleep ?? defaultSleep;
  const every = options.checkEveryMs ?? 2000;
  progress(`Cancelling Slurm job ${jobId} (scancel)…`);
  await runOnLoginNode(options, `scancel ${shellQuote(jobId)}`, "scancel");
  const deadline =
    clock.now() +
    parseDuration(run.restart.interruptTimeout) +
    parseDuration(run.restart.terminateTimeout) +
    SLURM_END_MARGIN_MS;
  let state = "unknown";
  let pause = Math.min(250, every);
  while (clock.now() < deadline) {
    await sleep(pause);
    pause = Math.min(every, pause * 2);
    const job = await showSlurmJob(options, jobId);
    // Slurm forgets a job MinJobAge after its end: gone is ended.
    if (job === null || isSlurmEnded(job.state)) {
      state = job?.state ?? "CANCELLED";
      progress(`Slurm job ${jobId} ended (${state}).`);
      return { kind: "cancelled", jobId, state };
    }
    state = job.state;
  }
  return { kind: "ending", jobId, state };
}

/** Whether a job stopped by scancel ended on its own instead (it finished or failed first). */
export function endedOnItsOwn(state: string): boolean {
  return isSlurmEnded(state) && state !== "CANCELLED";
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
