import type { RunConfig } from "../config/schema.ts";
import type { Clock } from "../core/clock.ts";
import { parseDuration } from "../core/duration.ts";
import { TrainopsError } from "../core/errors.ts";
import { type ClassifiedEvent, FAILURE_KINDS } from "../model/monitoring.ts";
import { ErrorClassifier } from "../monitors/parsers/error-classifier.ts";
import { createStepParser } from "../monitors/parsers/step-parser.ts";
import { startPidFile, UID_SNIPPET } from "../monitors/probe/process-set-script.ts";
import { configuredLogPath } from "../monitors/run-log-path.ts";
import { listRunProcesses, ProcessListError } from "../monitors/run-process-list.ts";
import type { RunRemote } from "../transport/run-remote.ts";
import { shellQuote } from "../transport/shell-quote.ts";
import type { Transport } from "../transport/transport.ts";

/** Training did not stop, did not start, or did not log new steps in time. */
export class RestartError extends TrainopsError {
  override readonly name = "RestartError";
  readonly code = "restart_failed";
  constructor(
    message: string,
    /** Last lines the start command printed, when it wrote any. */
    readonly output: string[] = [],
  ) {
    super(message);
  }
}

export interface RestartOptions {
  /** The run's remote side: its transport, paths, log reads and processes. */
  remote: RunRemote;
  clock: Clock;
  /** Waits between checks; injected so tests need not sleep for real. */
  sleep?: (ms: number) => Promise<void>;
  /** How often to look at the process table and the log while waiting. Default 2 s. */
  checkEveryMs?: number;
  onProgress?: (line: string) => void;
  /** Called as the new process is started (after the old one is gone), with the time. */
  onStarted?: (at: number) => void;
  /** Whether a log line shows training progress; defaults to the monitor's step parser. */
  isStepLine?: (line: string) => boolean;
}

/** How a restart went. */
export interface RestartOutcome {
  /** Pids that were running before, and the signal that finally stopped them. */
  stopped: number[];
  stopSignal: "INT" | "TERM" | "KILL" | null;
  /** The first new step line after the start. */
  firstStepLine: string;
  /** When the start was issued (ms), after the old process was gone: its errors count from here. */
  startedAt: number;
  /** When that line was seen (ms), from which the new config's samples count. */
  confirmedAt: number;
  /**
   * The first error in the log since the start, as far as it was read when the steps were
   * confirmed: a config that OOMs on its first steps has often failed by then already.
   */
  failure: ClassifiedEvent | null;
}

/**
 * Stops the run's training and starts it again: SIGINT (a clean KeyboardInterrupt, so the job
 * can save), then SIGTERM, then SIGKILL after the configured waits; starts `start:` detached
 * from the SSH session (setsid + nohup, or the named tmux session or systemd unit), and
 * confirms by new step lines in the log. Resuming from a checkpoint is the start command's job.
 */
export async function restartTraining(options: RestartOptions): Promise<RestartOutcome> {
  const { remote } = options;
  const { run, transport } = remote;
  const progress = options.onProgress ?? (() => {});
  if (!run.start && !run.restart.systemdUnit) {
    throw new RestartError(`run ${run.name} has no start: command; add one to trainops.yaml`);
  }
  const logPath = configuredLogPath(run);
  if (logPath === null) {
    throw new RestartError(`run ${run.name} has no log:; add the training log's path`);
  }
  // With systemd the stop and the start are one command: count from before it.
  let startOffset = await remote.logSize();
  let startedAt = options.clock.now();
  const markStarted = () => {
    startedAt = options.clock.now();
    options.onStarted?.(startedAt);
  };
  let stopped: number[] = [];
  let stopSignal: RestartOutcome["stopSignal"] = null;
  if (run.restart.systemdUnit) {
    progress(`Restarting systemd unit ${run.restart.systemdUnit}…`);
    // Stop and start are one command here: the new process's errors may come at any point.
    markStarted();
    const unit = shellQuote(run.restart.systemdUnit);
    const result = await transport.run(
      `systemctl restart -- ${unit} 2>/dev/null || systemctl --user restart -- ${unit}`,
    );
    if (result.code !== 0) {
      throw new RestartError(
        `systemctl restart ${run.restart.systemdUnit} failed: ${result.stderr.trim()}`,
      );
    }
  } else {
    const stop = await stopTraining(options);
    stopped = stop.pids;
    stopSignal = stop.signal;
    // What the old process printed until it stopped (last steps, a KeyboardInterrupt) ends
    // here: steps and errors after this offset are the new process's.
    startOffset = await remote.logSize();
    markStarted();
    await startTraining(options);
  }
  progress(`Waiting for new step lines in ${logPath}…`);
  const confirmed = await confirmSteps(options, startOffset);
  progress(`Training is stepping again: ${confirmed.line}`);
  return {
    stopped,
    stopSignal,
    firstStepLine: confirmed.line,
    startedAt,
    confirmedAt: confirmed.at,
    failure: confirmed.failure,
  };
}

/**
 * Pids of the run's own training tree (trainer, ranks, workers): the SSH user's processes in
 * the run's workdir whose command line matches `process`, or the tree the last start launched,
 * or the configured tmux session or systemd unit (see listRunProcesses). Never another user's.
 */
export async function findTrainingPids(transport: Transport, run: RunConfig): Promise<number[]> {
  try {
    return (await listRunProcesses(transport, run)).summary.treePids;
  } catch (error) {
    if (error instanceof ProcessListError) throw new RestartError(error.message);
    throw error;
  }
}

/** Signals the training process: INT, then TERM, then KILL, waiting the configured times. */
export async function stopTraining(
  options: RestartOptions,
): Promise<{ pids: number[]; signal: RestartOutcome["stopSignal"] }> {
  const { remote, clock } = options;
  const { run, transport } = remote;
  const sleep = options.sleep ?? defaultSleep;
  const every = options.checkEveryMs ?? 2000;
  const progress = options.onProgress ?? (() => {});
  const initial = await findTrainingPids(remote.transport, run);
  if (initial.length === 0) {
    progress("Training was not running.");
    return { pids: [], signal: null };
  }
  const steps: Array<["INT" | "TERM" | "KILL", number]> = [
    ["INT", parseDuration(run.restart.interruptTimeout)],
    ["TERM", parseDuration(run.restart.terminateTimeout)],
    ["KILL", 10_000],
  ];
  let pids = initial;
  for (const [signal, waitMs] of steps) {
    progress(`Stopping training (SIG${signal} to ${pids.join(", ")})…`);
    await transport.run(`kill -${signal} ${pids.join(" ")} 2>/dev/null; exit 0`);
    const deadline = clock.now() + waitMs;
    let pause = Math.min(250, every);
    while (clock.now() < deadline) {
      await sleep(Math.min(pause, Math.max(1, deadline - clock.now())));
      pause = Math.min(every, pause * 2);
      pids = await findTrainingPids(remote.transport, run);
      if (pids.length === 0) {
        progress(`Training stopped (SIG${signal}).`);
        return { pids: initial, signal };
      }
    }
  }
  throw new RestartError(`training (pids ${pids.join(", ")}) did not stop even after SIGKILL`);
}

/** Starts `start:` detached from the session, in the run's workdir. */
export async function startTraining(options: RestartOptions): Promise<void> {
  const { remote } = options;
  const { run, transport } = remote;
  const progress = options.onProgress ?? (() => {});
  const command = run.start as string;
  const wd = shellQuote(run.workdir);
  let script: string;
  if (run.restart.tmuxSession) {
    const session = shellQuote(run.restart.tmuxSession);
    progress(`Starting training in tmux session ${run.restart.tmuxSession}…`);
    script = `cd -- ${wd} || exit 3\ntmux kill-session -t ${session} 2>/dev/null\ntmux new-session -d -s ${session} -c ${wd} ${shellQuote(command)}`;
  } else {
    progress("Starting training (detached)…");
    const out = shellQuote(remote.paths.startOutput);
    // The launched shell records its pid and start time (field 22 of /proc/PID/stat) before it
    // becomes the command: the run's process set is then exactly this tree, and a later
    // process that reuses the pid does not match the start time.
    const launched = shellQuote(
      [
        UID_SNIPPET,
        "read -r st < /proc/$$/stat",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a sh expansion
        "set -- ${st##*) }",
        `printf '%s %s\\n' "$$" "\${20}" > "${startPidFile(run.name, run.workdir)}.new" && mv -f -- "${startPidFile(run.name, run.workdir)}.new" "${startPidFile(run.name, run.workdir)}"`,
        `exec sh -c ${shellQuote(command)}`,
      ].join("\n"),
    );
    script = [
      `cd -- ${wd} || exit 3`,
      // `cmd &` in a non-interactive shell starts cmd with SIGINT ignored, and Python then
      // never raises KeyboardInterrupt: the next graceful stop would be lost. `setsid -f`
      // forks without `&`, so the job keeps default signal handling in its own session.
      "if setsid -f true >/dev/null 2>&1; then",
      `  setsid -f nohup sh -c ${launched} > ${out} 2>&1 < /dev/null`,
      "else",
      `  nohup sh -c ${launched} > ${out} 2>&1 < /dev/null &`,
      "fi",
      "exit 0",
    ].join("\n");
  }
  const result = await transport.run(script);
  if (result.code !== 0) {
    throw new RestartError(
      `could not start training in ${run.workdir}: ${result.stderr.trim() || `exit ${result.code}`}`,
    );
  }
}

async function confirmSteps(
  options: RestartOptions,
  startOffset: number,
): Promise<{ line: string; at: number; failure: ClassifiedEvent | null }> {
  const { remote, clock } = options;
  const { run } = remote;
  const sleep = options.sleep ?? defaultSleep;
  const every = options.checkEveryMs ?? 2000;
  const isStep = options.isStepLine ?? stepLineTest(run);
  const deadline = clock.now() + parseDuration(run.restart.confirmTimeout);
  let absent = 0;
  // Check soon, then back off to `every`: most jobs log their first step within seconds.
  let pause = Math.min(250, every);
  while (clock.now() < deadline) {
    await sleep(pause);
    pause = Math.min(every, pause * 2);
    const size = await remote.logSize();
    // Only the new process's lines count: from where the log stood when it was started (the old
    // one may log a last step while it stops), or from the top if the start truncated it.
    const from = size < startOffset ? 0 : startOffset;
    if (size > from) {
      // Bounded: a restart only needs the first lines after the offset.
      const lines = (await remote.readLogFrom(from, 262_144)).split(/\r?\n|\r/);
      const line = lines.find((l) => isStep(l));
      if (line)
        return { line: line.trim().slice(0, 200), at: clock.now(), failure: firstFailure(lines) };
    }
    const pids = run.restart.systemdUnit ? [1] : await findTrainingPids(remote.transport, run);
    absent = pids.length === 0 ? absent + 1 : 0;
    if (absent >= 3) {
      throw new RestartError(
        "training exited right after the start command, before any step",
        await remote.startOutputTail(),
      );
    }
  }
  throw new RestartError(
    `no new step lines in ${remote.paths.log} within ${run.restart.confirmTimeout} after the start`,
    await remote.startOutputTail(),
  );
}

/** The first failure among log lines, classified as the monitor does (an interrupt is none). */
function firstFailure(lines: string[]): ClassifiedEvent | null {
  const classifier = new ErrorClassifier();
  const events = lines.flatMap((line, index) => classifier.push(line, index + 1));
  events.push(...classifier.flush());
  return events.find((event) => FAILURE_KINDS.includes(event.kind)) ?? null;
}

/** The same step parser the monitor uses, so a restart is confirmed by what polls count. */
function stepLineTest(run: RunConfig): (line: string) => boolean {
  const parser = createStepParser({
    format: run.steps.format,
    ...(run.steps.regex ? { regex: run.steps.regex } : {}),
  });
  return (line) => parser.parseLine(line) !== null;
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
