import { posix } from "node:path";
import type { RunConfig, SlurmRunConfig } from "../config/schema.ts";
import type { Clock } from "../core/clock.ts";
import { parseDuration } from "../core/duration.ts";
import { type ClassifiedEvent, FAILURE_KINDS } from "../model/monitoring.ts";
import { isSlurmEnded, type SlurmJob } from "../model/slurm-job.ts";
import { ErrorClassifier } from "../monitors/parsers/error-classifier.ts";
import { RankedLogReader } from "../monitors/parsers/rank-prefix.ts";
import { createStepParser } from "../monitors/parsers/step-parser.ts";
import { resolveLogPattern } from "../monitors/slurm/log-pattern.ts";
import type { SlurmJobsRepo } from "../store/slurm-jobs-repo.ts";
import { shellQuote } from "../transport/shell-quote.ts";
import type { Transport } from "../transport/transport.ts";
import { RestartError, type RestartOutcome } from "./restart.ts";
import { runOnLoginNode, showSlurmJob } from "./slurm-login-node.ts";

/** Resources a phase may ask of Slurm (plan key `slurm:`), passed to sbatch on resubmit. */
export interface SlurmResources {
  nodes?: number | undefined;
  gpusPerNode?: number | undefined;
  /** Slurm's time format, e.g. `04:00:00` or `1-00:00:00`. */
  time?: string | undefined;
  partition?: string | undefined;
}

/** What a restart through Slurm needs. */
export interface SlurmRestartOptions {
  transport: Transport;
  run: RunConfig & { slurm: SlurmRunConfig };
  jobs: SlurmJobsRepo;
  clock: Clock;
  sleep?: (ms: number) => Promise<void>;
  checkEveryMs?: number;
  onProgress?: (line: string) => void;
  /** Called when the new job starts RUNNING (not when it was queued): budgets count from here. */
  onStarted?: (at: number) => void;
  resources?: SlurmResources | undefined;
}

/** The sbatch flags for a phase's resources. */
export function sbatchResourceArgs(resources: SlurmResources | undefined): string[] {
  if (!resources) return [];
  return [
    resources.nodes !== undefined ? `--nodes=${resources.nodes}` : "",
    resources.gpusPerNode !== undefined ? `--gres=gpu:${resources.gpusPerNode}` : "",
    resources.time !== undefined ? `--time=${resources.time}` : "",
    resources.partition !== undefined ? `--partition=${resources.partition}` : "",
  ].filter((a) => a !== "");
}

/**
 * Restarts a Slurm run: the training config has been edited on the shared file system; this
 * cancels the job (SIGINT to its steps first, so it can save, then scancel) and submits its
 * script again — or `scontrol requeue`s it where the script resumes by itself — then follows the
 * new job id until it runs and logs a step. The job it cancelled is recorded as cancelled by
 * trainops, so its end raises no alert; the new one joins the run's job id chain.
 */
export async function restartSlurmJob(options: SlurmRestartOptions): Promise<RestartOutcome> {
  const { run, jobs, clock } = options;
  const progress = options.onProgress ?? (() => {});
  const sleep = options.sleep ?? defaultSleep;
  const every = options.checkEveryMs ?? 2000;
  const old = jobs.current(run.name);
  if (!old) {
    throw new RestartError(
      `no Slurm job of ${run.name} seen yet; wait for a poll (trainops poll --once)`,
    );
  }
  const oldJob = old.job;
  let newId: string;
  if (run.slurm.requeue) {
    progress(`Requeueing Slurm job ${oldJob.jobId}…`);
    jobs.noteCancelled(run.name, oldJob.jobId);
    await slurm(options, `scontrol requeue ${shellQuote(oldJob.jobId)}`, "scontrol requeue");
    newId = oldJob.jobId;
  } else {
    if (!isSlurmEnded(oldJob.state)) await cancelJob(options, oldJob, sleep, every);
    const script = submitScript(run, oldJob);
    const args = [
      "--parsable",
      `--job-name=${oldJob.name || run.slurm.job || run.name}`,
      ...(run.slurm.partition ? [`--partition=${run.slurm.partition}`] : []),
      ...sbatchResourceArgs(options.resources),
    ];
    progress(
      `Submitting ${script} again${args.length > 2 ? ` (${args.slice(2).join(" ")})` : ""}…`,
    );
    const workDir = oldJob.workDir ?? run.workdir;
    const out = await slurm(
      options,
      `cd -- ${shellQuote(workDir)} || exit 3\nsbatch ${args.map(shellQuote).join(" ")} ${shellQuote(script)}`,
      "sbatch",
    );
    newId = out.trim().split("\n").pop()?.split(";")[0]?.trim() ?? "";
    if (!/^\d+(_\d+)?$/.test(newId))
      throw new RestartError(`sbatch printed no job id: ${out.trim()}`);
    const placeholder: SlurmJob = {
      ...oldJob,
      jobId: newId,
      state: "PENDING",
      reason: null,
      nodes: [],
      elapsedSeconds: 0,
      pendingSeconds: 0,
      exitCode: null,
      exitSignal: null,
      restarts: 0,
      stdOut: null,
      submittedAt: clock.now(),
      startedAt: null,
      endedAt: null,
      cancelledBy: null,
    };
    jobs.noteSubmitted(run.name, placeholder, oldJob.jobId, clock.now());
    progress(`Submitted Slurm job ${newId}; waiting for it to start…`);
  }
  const deadline = clock.now() + parseDuration(run.restart.confirmTimeout);
  const running = await waitForRunning(options, newId, deadline, sleep, every);
  const startedAt = clock.now();
  options.onStarted?.(startedAt);
  progress(`Slurm job ${newId} is running on ${running.nodes.join(", ")}; waiting for steps…`);
  const confirmed = await confirmSteps(options, running, deadline, sleep, every);
  progress(`Training is stepping again: ${confirmed.line}`);
  return {
    stopped: [],
    stopSignal: null,
    firstStepLine: confirmed.line,
    startedAt,
    confirmedAt: confirmed.at,
    failure: confirmed.failure,
  };
}

/** The script a resubmit runs: `slurm.submit`, else the job's own Command. */
function submitScript(run: RunConfig & { slurm: SlurmRunConfig }, job: SlurmJob): string {
  const script = run.slurm.submit ?? job.command;
  if (!script) {
    throw new RestartError(
      `Slurm does not say which script job ${job.jobId} ran; add slurm.submit: to the run`,
    );
  }
  return posix.isAbsolute(script) ? script : posix.join(run.workdir, script);
}

/** SIGINT to the job's steps (a clean stop), then scancel after interruptTimeout. */
async function cancelJob(
  options: SlurmRestartOptions,
  job: SlurmJob,
  sleep: (ms: number) => Promise<void>,
  every: number,
): Promise<void> {
  const { run, jobs, clock } = options;
  const progress = options.onProgress ?? (() => {});
  jobs.noteCancelled(run.name, job.jobId);
  const id = shellQuote(job.jobId);
  const phases: Array<[string, string, number]> = [
    [
      `scancel --signal=INT ${id}`,
      "SIGINT to its steps",
      parseDuration(run.restart.interruptTimeout),
    ],
    [`scancel ${id}`, "scancel", parseDuration(run.restart.terminateTimeout) + 10_000],
  ];
  for (const [command, what, waitMs] of phases) {
    progress(`Stopping Slurm job ${job.jobId} (${what})…`);
    await slurm(options, `${command} 2>&1; exit 0`, "scancel");
    const deadline = clock.now() + waitMs;
    let pause = Math.min(250, every);
    while (clock.now() < deadline) {
      await sleep(pause);
      pause = Math.min(every, pause * 2);
      const state = (await showJob(options, job.jobId))?.state ?? null;
      if (state === null || isSlurmEnded(state)) {
        progress(`Slurm job ${job.jobId} stopped (${state ?? "gone"}).`);
        return;
      }
    }
  }
  throw new RestartError(`Slurm job ${job.jobId} did not end after scancel`);
}

async function waitForRunning(
  options: SlurmRestartOptions,
  jobId: string,
  deadline: number,
  sleep: (ms: number) => Promise<void>,
  every: number,
): Promise<SlurmJob> {
  let last: SlurmJob | null = null;
  let pause = Math.min(250, every);
  while (options.clock.now() < deadline) {
    last = await showJob(options, jobId);
    if (last?.state === "RUNNING") return last;
    if (last && isSlurmEnded(last.state)) {
      throw new RestartError(
        `Slurm job ${jobId} ended (${last.state}${last.exitCode ? `, exit code ${last.exitCode}` : ""}) before training stepped`,
      );
    }
    await sleep(pause);
    pause = Math.min(every, pause * 2);
  }
  throw new RestartError(
    `Slurm job ${jobId} still ${last?.state ?? "unknown"}${last?.reason ? ` (${last.reason})` : ""} after ${options.run.restart.confirmTimeout}; it stays queued and the monitor follows it`,
  );
}

async function confirmSteps(
  options: SlurmRestartOptions,
  job: SlurmJob,
  deadline: number,
  sleep: (ms: number) => Promise<void>,
  every: number,
): Promise<{ line: string; at: number; failure: ClassifiedEvent | null }> {
  const { run, clock } = options;
  const absolute = run.log
    ? posix.isAbsolute(run.log)
      ? run.log
      : posix.join(run.workdir, run.log)
    : null;
  const logPath = absolute ? resolveLogPattern(absolute, job) : job.stdOut;
  if (!logPath) throw new RestartError(`Slurm reports no StdOut for job ${job.jobId}`);
  // A fixed log (no %j) already holds the old job's lines: only what comes after counts.
  const from = absolute && !absolute.includes("%") ? await fileSize(options, logPath) : 0;
  const parser = createStepParser({
    format: run.steps.format,
    ...(run.steps.regex ? { regex: run.steps.regex } : {}),
  });
  let pause = Math.min(250, every);
  while (clock.now() < deadline) {
    await sleep(pause);
    pause = Math.min(every, pause * 2);
    const text = await slurm(
      options,
      `tail -c +${from + 1} -- ${shellQuote(logPath)} 2>/dev/null | head -c 262144; exit 0`,
      "tail",
    );
    const ranks = new RankedLogReader(true);
    const lines = text.split(/\r?\n|\r/).map((line) => ranks.route(line));
    const step = lines.find((l) => parser.parseLine(l.text) !== null && ranks.acceptStep(l));
    if (step) {
      return {
        line: step.text.trim().slice(0, 200),
        at: clock.now(),
        failure: firstFailure(lines.map((l) => l.text)),
      };
    }
    const state = (await showJob(options, job.jobId))?.state;
    if (state && isSlurmEnded(state)) {
      throw new RestartError(
        `Slurm job ${job.jobId} ended (${state}) before any step`,
        lines.slice(-5).map((l) => l.text),
      );
    }
  }
  throw new RestartError(
    `no step lines in ${logPath} within ${run.restart.confirmTimeout} after the resubmit`,
  );
}

/** `scontrol show job` of one job on the login node; null when Slurm no longer knows it. */
function showJob(options: SlurmRestartOptions, jobId: string): Promise<SlurmJob | null> {
  return showSlurmJob(options, jobId);
}

async function fileSize(options: SlurmRestartOptions, path: string): Promise<number> {
  const out = await slurm(options, `wc -c < ${shellQuote(path)} 2>/dev/null || echo 0`, "wc");
  return Number(out.trim()) || 0;
}

/** Runs a Slurm command on the login node; stdout, or a RestartError. */
function slurm(options: SlurmRestartOptions, script: string, what: string): Promise<string> {
  return runOnLoginNode(options, script, what);
}

function firstFailure(lines: string[]): ClassifiedEvent | null {
  const classifier = new ErrorClassifier();
  const events = lines.flatMap((line, index) => classifier.push(line, index + 1));
  events.push(...classifier.flush());
  return events.find((event) => FAILURE_KINDS.includes(event.kind)) ?? null;
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
