import { randomBytes } from "node:crypto";
import { posix } from "node:path";
import type { RunConfig } from "../config/schema.ts";
import type { BackoffOptions } from "../core/backoff.ts";
import type { Clock } from "../core/clock.ts";
import { parseDuration } from "../core/duration.ts";
import type { LinePattern } from "../model/line-pattern.ts";
import type { ClassifiedEvent, RunSample } from "../model/monitoring.ts";
import type { MonitorStore } from "../store/monitor-store.ts";
import type { PollOutcome } from "../store/polls-repo.ts";
import type { Transport } from "../transport/transport.ts";
import { KernelLogIngestor } from "./kernel-log-ingestor.ts";
import type { KernelSource } from "./kernel-sources.ts";
import { LogFollowStream } from "./log-follow-stream.ts";
import { LogIngestor } from "./log-ingestor.ts";
import { RankedLogReader } from "./parsers/rank-prefix.ts";
import type { HostProbeRun } from "./probe/host-probe-script.ts";
import { buildLogReadScript, type LogReadRequest, parseLogSections } from "./probe/log-section.ts";
import { type ProbeOutput, parseProbeOutput } from "./probe/probe-output.ts";
import { buildProbeScript } from "./probe/probe-script.ts";
import { applyReadSince, type ReadBasis, readBasisOf } from "./read-basis.ts";
import { configuredLogPath } from "./run-log-path.ts";
import { probeUid } from "./run-processes.ts";
import { buildSample, runProcessesOf } from "./sample-builder.ts";
import { resolveLogPattern } from "./slurm/log-pattern.ts";
import { applySlurmToSample, readSlurmJob, slurmProbeParts } from "./slurm/slurm-sample.ts";

/** What one poll of one run found. */
export interface PollReport {
  run: string;
  outcome: PollOutcome;
  startedAt: number;
  durationMs: number;
  sample: RunSample;
  /** Events stored by this poll (log and kernel). */
  events: ClassifiedEvent[];
  /** Why it failed, for people. */
  message: string | null;
}

export interface RunMonitorOptions {
  run: RunConfig;
  transport: Transport;
  store: MonitorStore;
  clock: Clock;
  /** Called with the events a follow stream stored between polls (for fast alerts). */
  onFollowEvents?: (run: string, events: ClassifiedEvent[]) => void;
  /** Reports follow-stream trouble; the stream reopens by itself. */
  onFollowError?: (run: string, error: Error) => void;
  /**
   * Stored history keeps at most one sample per this long (config `sampleEvery`; changes of
   * state each); the newest is always readable. Absent or 0: every poll's sample is stored.
   */
  sampleEveryMs?: number;
  /** Waits before reopening a follow stream that ended or failed to open (default 1 s to 60 s). */
  followBackoff?: BackoffOptions;
  /** The user's log-line patterns for this run (`alerts.rules.pattern`). */
  patterns?: readonly LinePattern[];
}

/**
 * Watches one run: a poll is one probe script over the run's transport, whose output becomes one
 * sample plus the log's new steps and events; an optional follow stream feeds new log bytes to
 * the same ingestor between polls so errors surface within a second.
 */
export class RunMonitor {
  readonly ingestor: LogIngestor;
  private readonly followStream: LogFollowStream;
  private logBusy: Promise<void> | null = null;
  /** Follow reads, one at a time (they do not wait for a poll: see readLog). */
  private readBusy: Promise<unknown> = Promise.resolve();
  /** The stored position the poll in progress built its probe from. */
  private pollBasis: ReadBasis = readBasisOf(null);
  /** `getconf CLK_TCK` / `PAGESIZE` of the VM, asked once per monitor. */
  private units = "";
  /** The Slurm job's StdOut as the last poll found it (runs that leave `log` to Slurm). */
  private jobLog = "";
  /** The SSH user's uid, as the first poll found it. */
  private uid: number | null = null;
  /** The host kernel's news (OOM killer, GPU faults) for this run. */
  private readonly kernel: KernelLogIngestor;

  constructor(private readonly options: RunMonitorOptions) {
    this.kernel = new KernelLogIngestor({
      run: options.run.name,
      store: options.store,
      clock: options.clock,
    });
    this.ingestor = new LogIngestor({
      run: options.run.name,
      store: options.store,
      clock: options.clock,
      steps: options.run.steps,
      // A Slurm job's log mixes its ranks' lines under `srun --label` or node prefixes.
      ...(options.run.slurm ? { ranks: new RankedLogReader(true) } : {}),
      ...(options.patterns?.length ? { patterns: options.patterns } : {}),
    });
    this.followStream = new LogFollowStream({
      run: options.run,
      transport: options.transport,
      clock: options.clock,
      ...(options.patterns ? { patterns: options.patterns } : {}),
      ...(options.followBackoff ? { backoff: options.followBackoff } : {}),
      start: () => {
        const stored = options.store.offsets.get(options.run.name);
        if (!stored?.inode || this.logPath === "") return null;
        return { path: this.logPath, offset: stored.offset };
      },
      read: () => this.readLog(),
      ...(options.onFollowEvents ? { onEvents: options.onFollowEvents } : {}),
      ...(options.onFollowError ? { onError: options.onFollowError } : {}),
    });
  }

  /** The kernel log the last poll could read; null before the first poll. */
  get kernelSource(): KernelSource | null {
    return this.kernel.source;
  }

  get name(): string {
    return this.options.run.name;
  }

  /** Absolute path of the log on the VM ("" while a Slurm job's StdOut is not known yet). */
  get logPath(): string {
    const configured = configuredLogPath(this.options.run);
    if (configured === null) return this.jobLog;
    // A Slurm run's `log:` may name its job (`logs/%x-%j.log`): resolved for the newest job.
    const job = this.options.run.slurm && this.options.store.slurmJobs?.current(this.name)?.job;
    return job && configured.includes("%") ? resolveLogPattern(configured, job) : configured;
  }

  /** Runs one poll and stores what it found. Never throws for VM trouble: see `outcome`. */
  async pollOnce(): Promise<PollReport> {
    return this.withLogLock(() => this.pollLocked());
  }

  private async pollLocked(): Promise<PollReport> {
    const { run, transport, store, clock } = this.options;
    const startedAt = clock.now();
    const nonce = randomBytes(12).toString("hex");
    const slurm = slurmProbeParts(run, store.slurmJobs, `@@${nonce}`);
    const script = buildProbeScript({
      ...this.hostProbeRun(),
      nvidiaSmi: slurm?.nvidiaSmi ?? run.nvidiaSmi,
      ...(slurm ? { prelude: slurm.prelude } : {}),
      nonce,
    });
    let stdout: Buffer | null = null;
    let failure = "";
    try {
      stdout = (await transport.run(script, { timeoutMs: this.execTimeoutMs() })).stdout;
    } catch (error) {
      failure = (error as Error).message;
    }
    const probed = stdout;
    return this.recordPoll(
      startedAt,
      probed === null ? { failure } : { absorb: () => this.absorb(probed, nonce) },
    );
  }

  /** This run's part of a probe: where its log was read up to, what bounds its processes. */
  hostProbeRun(): HostProbeRun {
    const { run, store } = this.options;
    this.pollBasis = readBasisOf(store.offsets.get(run.name));
    return {
      ...this.logReadRequest(),
      workdir: run.workdir,
      nvidiaSmi: run.nvidiaSmi,
      process: run.process,
      run: run.name,
      tmuxSession: run.restart.tmuxSession,
      systemdUnit: run.restart.systemdUnit,
      uid: this.uid,
      ...this.kernel.probeRequest(),
      wantUnits: this.units === "",
      ...(run.trainConfig ? { trainConfig: this.trainConfigPath(run.trainConfig) } : {}),
    };
  }

  /**
   * Stores a poll whose probe ran as part of its host's probe (see pollHost): `probe` is this
   * run's output, or why the host's probe (or this run's part of it) could not be read. The
   * caller holds the log lock ({@link lockLog}) from before {@link hostProbeRun}.
   */
  recordHostPoll(
    startedAt: number,
    probe: { output: ProbeOutput } | { failure: string },
  ): PollReport {
    return this.recordPoll(
      startedAt,
      "output" in probe ? { absorb: () => this.absorbOutput(probe.output, null) } : probe,
    );
  }

  /** True for a run whose probe cannot join its host's (a Slurm job: its GPUs are its nodes'). */
  get probesAlone(): boolean {
    return this.options.run.slurm !== undefined;
  }

  /** The run's transport (runs of one host share its connection). */
  get transport(): Transport {
    return this.options.transport;
  }

  /**
   * Takes the log lock (see withLogLock) until the returned function is called: a host probe
   * holds the locks of all its runs while it runs and stores.
   */
  lockLog(): Promise<() => void> {
    return new Promise((locked) => {
      void this.withLogLock(() => new Promise<void>((release) => locked(release)));
    });
  }

  private recordPoll(
    startedAt: number,
    probe: { absorb: () => ReturnType<RunMonitor["absorbOutput"]> } | { failure: string },
  ): PollReport {
    const { run, store, clock } = this.options;
    let outcome: PollOutcome = "ok";
    let message: string | null = null;
    let events: ClassifiedEvent[] = [];
    let sample: RunSample;
    if ("failure" in probe) {
      outcome = "unreachable";
      message = probe.failure;
    }
    // Everything one poll stores (log offset, steps, events, kernel mark, sample, poll record)
    // is one transaction: one commit per poll, however many lines it read.
    return store.transaction(() => {
      if ("absorb" in probe) {
        try {
          const absorbed = probe.absorb();
          ({ sample, events, message } = absorbed);
          if (absorbed.findings.length > 0) {
            // The VM answered, but what it lacks would go unseen in an "ok": say what, and fail.
            outcome = "degraded";
            message = [...(message ? [message] : []), ...absorbed.findings].join("; ");
          }
        } catch (error) {
          outcome = "unreachable";
          message = (error as Error).message;
        }
      }
      sample ??= unreachableSample(run.name, clock.now());
      const durationMs = clock.now() - startedAt;
      store.samples.record(sample, this.options.sampleEveryMs ?? 0);
      store.polls.insert({ run: run.name, startedAt, durationMs, outcome, message });
      return { run: run.name, outcome, startedAt, durationMs, sample, events, message };
    });
  }

  /** Parses a probe of the run alone, then absorbs it. */
  private absorb(stdout: Buffer, nonce: string): ReturnType<RunMonitor["absorbOutput"]> {
    const { run, clock } = this.options;
    const output = parseProbeOutput(stdout, nonce);
    const job = run.slurm !== undefined ? readSlurmJob(stdout, `@@${nonce}`, clock.now()) : null;
    return this.absorbOutput(output, job);
  }

  /** Turns a probe's output into stored log progress and events, and this poll's sample. */
  private absorbOutput(
    output: ProbeOutput,
    job: ReturnType<typeof readSlurmJob>,
  ): {
    sample: RunSample;
    events: ClassifiedEvent[];
    message: string | null;
    findings: string[];
  } {
    const { run, store, clock } = this.options;
    let message: string | null = null;
    const slurm = run.slurm !== undefined;
    if (job) {
      store.slurmJobs?.observe(run.name, job, clock.now());
      if (job.stdOut && configuredLogPath(run) === null) this.jobLog = job.stdOut;
    }
    if (output.units.trim() !== "") this.units = output.units;
    else output.units = this.units;
    // A follow read may have been stored while the probe was out: what it took is not taken twice.
    const read = applyReadSince(
      this.ingestor,
      { rest: output.logRest, log: output.log },
      this.pollBasis,
      store.offsets.get(run.name),
    );
    let events = read.events;
    if (read.rewritten) {
      message = "log was rewritten past the read position; read again from its start";
    }
    if (read.identityChanged) this.followStream.reopen();
    this.uid ??= probeUid(output.self);
    const processes = runProcessesOf(output, run);
    events = events.concat(this.kernel.ingest(output, processes?.summary.trainer?.pid ?? null));
    // The newest step point the follow stream held back is stored with the poll.
    this.ingestor.storePendingStep();
    let sample = buildSample({
      run,
      at: clock.now(),
      output,
      recentSteps: store.steps.recent(run.name, 64),
      processes,
    });
    if (slurm) sample = applySlurmToSample(sample, job, output.gpu.text);
    // A traceback ends with its exception line; waiting for the next line would hold an
    // OOM until the next poll, or for ever when the process died. Follow streams flush on
    // quiet; a poll flushes at once.
    events = events.concat(this.ingestor.flush().events);
    let findings: string[];
    if (slurm && !job) {
      findings = [`no Slurm job ${run.slurm?.job ?? run.slurm?.jobId} found (squeue/scontrol)`];
    } else if (slurm && job?.state !== "RUNNING") {
      // A job that is not running has no GPUs to query (the srun step refuses), and a queued
      // one no output yet: neither is missing.
      findings = this.findings(output).filter(
        (f) =>
          !(run.nvidiaSmi !== "" && f.startsWith(run.nvidiaSmi)) &&
          !(f.startsWith("log file") && !output.log.present && job?.state === "PENDING"),
      );
    } else {
      findings = this.findings(output);
    }
    return { sample, events, message, findings };
  }

  /**
   * Reads the log now, outside a poll (what a follow stream's wake-up does). Returns the events
   * stored, and those stored earlier whose kind it changed (both are news to the alert rules),
   * and how many lines matched the user's patterns; throws for VM trouble (the next poll
   * records it).
   *
   * It does not wait for a poll whose probe is out (under load a probe takes most of a
   * second): it runs on the connection's urgent shell beside it, and whichever of the two is
   * stored second keeps only what the first did not take (see applicableRead).
   */
  async readLog(): Promise<{ events: ClassifiedEvent[]; matched: number }> {
    const next = this.readBusy.then(async () => {
      const { run, store, transport } = this.options;
      const nonce = randomBytes(12).toString("hex");
      const basis = readBasisOf(store.offsets.get(run.name));
      const script = buildLogReadScript(this.logReadRequest(), nonce);
      const result = await transport.run(script, {
        timeoutMs: this.execTimeoutMs(),
        urgent: true,
      });
      const sections = parseLogSections(result.stdout, `@@${nonce}`);
      const read = applyReadSince(
        this.ingestor,
        { rest: sections.rest, log: sections.log },
        basis,
        store.offsets.get(run.name),
      );
      if (read.identityChanged) this.followStream.reopen();
      const events = read.changed.length > 0 ? read.events.concat(read.changed) : read.events;
      return { events, matched: read.matched };
    });
    this.readBusy = next.catch(() => undefined);
    return next;
  }

  /** Every piece the monitor needs that the probe did not find. */
  private findings(output: ProbeOutput): string[] {
    const { run } = this.options;
    const found: string[] = [];
    if (!output.log.present && !output.log.deferred) {
      found.push(`log file ${this.logPath || "(the job's StdOut)"} not found on the VM`);
    }
    if (run.trainConfig && output.trainConfig === "unreadable") {
      found.push(
        `training config ${this.trainConfigPath(run.trainConfig)} cannot be read on the VM`,
      );
    }
    const status = output.gpu.status;
    if (status === 127) {
      found.push(`${run.nvidiaSmi} not found on the VM (nvidiaSmi in the run's config)`);
    } else if (status !== null && status !== 0) {
      const first = output.gpu.text.split("\n").find((line) => line.trim() !== "") ?? "";
      found.push(
        `${run.nvidiaSmi} failed with exit code ${status}${first ? `: ${first.trim().slice(0, 160)}` : ""}`,
      );
    }
    return found;
  }

  private trainConfigPath(file: string): string {
    return posix.isAbsolute(file) ? file : posix.join(this.options.run.workdir, file);
  }

  /** The stored read position, as the log section of a script needs it. */
  private logReadRequest(): LogReadRequest {
    const { run, store } = this.options;
    const stored = store.offsets.get(run.name);
    return {
      logPath: this.logPath,
      rotatedPath: `${this.logPath}.1`,
      inode: stored?.inode ?? null,
      offset: stored?.offset ?? 0,
      anchor: stored?.anchor ?? "",
      prefixLength: stored?.prefixLength ?? 0,
      prefixSum: stored?.prefixSum ?? "",
      rotatedStamp: stored?.rotatedStamp ?? "",
      backfillBytes: run.backfillBytes,
      maxReadBytes: run.maxReadBytes,
      verify: this.ingestor.verifyNext,
    };
  }

  /** How long one probe script of the run may take (`ssh.execTimeout`), in ms. */
  execTimeoutMs(): number {
    const { run } = this.options;
    return run.ssh === "local" ? 30_000 : parseDuration(run.ssh.execTimeout);
  }

  /**
   * Runs `fn` after every poll started before it: the stored offset a probe is built from is
   * the one its output is applied to, unless a follow's read was stored in between (see
   * readLog and applicableRead).
   */
  private withLogLock<T>(fn: () => Promise<T>): Promise<T> {
    // Idle: start at once (a poll's script goes out in the caller's tick, not a microtask later).
    const next = this.logBusy ? this.logBusy.then(fn, fn) : fn();
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.logBusy = settled;
    void settled.then(() => {
      if (this.logBusy === settled) this.logBusy = null;
    });
    return next;
  }

  /** Records a poll that did not run because the previous one was still going. */
  recordSkip(): void {
    const { run, store, clock } = this.options;
    store.polls.insert({
      run: run.name,
      startedAt: clock.now(),
      durationMs: null,
      outcome: "skipped",
      message: "previous poll still running",
    });
  }

  /** Opens the follow stream (if `follow` is on) and keeps it open until `stopFollow`. */
  async startFollow(): Promise<void> {
    await this.followStream.start();
  }

  /** Closes the follow stream (see LogFollowStream). */
  async stopFollow(): Promise<void> {
    await this.followStream.stop();
  }
}

function unreachableSample(run: string, at: number): RunSample {
  return {
    run,
    at,
    reachable: false,
    alive: null,
    step: null,
    totalSteps: null,
    epoch: null,
    loss: null,
    stepTimeSeconds: null,
    stepsPerHour: null,
    etaSeconds: null,
    epochEtaSeconds: null,
    gpus: [],
    hostMemory: null,
    workers: null,
    trainerRssBytes: null,
    diskFreeBytes: null,
  };
}
