import { randomBytes } from "node:crypto";
import type { RunConfig } from "../config/schema.ts";
import type { Clock } from "../core/clock.ts";
import { parseDuration } from "../core/duration.ts";
import type { ClassifiedEvent, RunSample } from "../model/monitoring.ts";
import type { LogOffset } from "../store/log-offsets-repo.ts";
import type { MonitorStore } from "../store/monitor-store.ts";
import type { PollOutcome } from "../store/polls-repo.ts";
import { runPaths } from "../transport/run-remote.ts";
import type { FollowHandle, Transport } from "../transport/transport.ts";
import { newKernelLines } from "./kernel-lines.ts";
import {
  cgroupCounterFiles,
  type KernelSource,
  OomCounterWatch,
  parseKernelSection,
  parseOomCounters,
} from "./kernel-sources.ts";
import { type IngestResult, LogIngestor } from "./log-ingestor.ts";
import { classifyKernelLine } from "./parsers/error-classifier.ts";
import { parseUptime } from "./probe/probe-figures.ts";
import { type ProbeLog, type ProbeOutput, parseProbeOutput } from "./probe/probe-output.ts";
import { buildProbeScript } from "./probe/probe-script.ts";
import { probeUid } from "./run-processes.ts";
import { buildSample, runProcessesOf } from "./sample-builder.ts";

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
}

/**
 * Watches one run: a poll is one probe script over the run's transport, whose output becomes one
 * sample plus the log's new steps and events; an optional follow stream feeds new log bytes to
 * the same ingestor between polls so errors surface within a second.
 */
export class RunMonitor {
  readonly ingestor: LogIngestor;
  private follow: FollowHandle | null = null;
  private followWanted = false;
  private followOpening = false;
  /** `getconf CLK_TCK` / `PAGESIZE` of the VM, asked once per monitor. */
  private units = "";
  /** The SSH user's uid, as the first poll found it. */
  private uid: number | null = null;
  /** Where the kernel journal was read up to (when it is the kernel log that can be read). */
  private journalCursor: string | null = null;
  /** The last trainer seen, and the OOM counter files of its cgroup. */
  private cgroupPid: number | null = null;
  private cgroupFiles: string[] = [];
  private readonly oomCounters = new OomCounterWatch();
  /** The kernel log the last poll could read; null before the first poll. */
  kernelSource: KernelSource | null = null;

  constructor(private readonly options: RunMonitorOptions) {
    this.ingestor = new LogIngestor({
      run: options.run.name,
      store: options.store,
      clock: options.clock,
      steps: options.run.steps,
    });
  }

  get name(): string {
    return this.options.run.name;
  }

  /** Absolute path of the log on the VM. */
  get logPath(): string {
    return runPaths(this.options.run).log;
  }

  /** Runs one poll and stores what it found. Never throws for VM trouble: see `outcome`. */
  async pollOnce(): Promise<PollReport> {
    const { run, transport, store, clock } = this.options;
    const startedAt = clock.now();
    const stored = store.offsets.get(run.name);
    const nonce = randomBytes(12).toString("hex");
    const script = buildProbeScript({
      logPath: this.logPath,
      workdir: run.workdir,
      nvidiaSmi: run.nvidiaSmi,
      inode: stored?.inode ?? null,
      offset: stored?.offset ?? 0,
      anchor: stored?.anchor ?? "",
      backfillBytes: run.backfillBytes,
      maxReadBytes: run.maxReadBytes,
      process: run.process,
      run: run.name,
      tmuxSession: run.restart.tmuxSession,
      systemdUnit: run.restart.systemdUnit,
      uid: this.uid,
      kernelMark: stored?.kernelMark ?? null,
      journalCursor: this.journalCursor,
      cgroupPid: this.cgroupPid,
      cgroupFiles: this.cgroupFiles,
      wantUnits: this.units === "",
      nonce,
    });
    let outcome: PollOutcome = "ok";
    let message: string | null = null;
    let events: ClassifiedEvent[] = [];
    let sample: RunSample;
    try {
      const timeoutMs = run.ssh === "local" ? 30_000 : parseDuration(run.ssh.execTimeout);
      const result = await transport.run(script, { timeoutMs });
      const output = parseProbeOutput(result.stdout, nonce);
      if (output.units.trim() !== "") this.units = output.units;
      else output.units = this.units;
      if (output.log.present && !this.anchorHolds(output.log, stored)) {
        // The file was rewritten in place past our offset: start over from its beginning.
        store.offsets.set(
          run.name,
          {
            ...(stored as LogOffset),
            offset: 0,
            partial: Buffer.alloc(0),
            anchor: "",
            lineCount: 0,
          },
          clock.now(),
        );
        message = "log was truncated and rewritten; re-reading it from the start next poll";
      } else if (output.log.present) {
        const ingested = this.ingestor.ingest({
          inode: output.log.inode,
          start: output.log.start,
          bytes: output.log.bytes,
          reset: output.log.reset,
        });
        events = ingested.events;
        if (output.log.reset !== "none" && output.log.reset !== "attach") this.reopenFollow();
      }
      this.uid ??= probeUid(output.self);
      const processes = runProcessesOf(output, run);
      events = events.concat(this.ingestKernel(output, processes?.summary.trainer?.pid ?? null));
      sample = buildSample({
        run,
        at: clock.now(),
        output,
        recentSteps: store.steps.recent(run.name, 64),
        processes,
      });
      // A traceback ends with its exception line; waiting for the next line would hold an
      // OOM until the next poll, or for ever when the process died. Follow streams flush on
      // quiet; a poll flushes at once.
      events = events.concat(this.ingestor.flush().events);
      if (!output.log.present) {
        message = `log file ${this.logPath} not found on the VM`;
      }
    } catch (error) {
      outcome = "unreachable";
      message = (error as Error).message;
      sample = unreachableSample(run.name, clock.now());
    }
    const durationMs = clock.now() - startedAt;
    store.transaction(() => {
      store.samples.insert(sample);
      store.polls.insert({ run: run.name, startedAt, durationMs, outcome, message });
    });
    return { run: run.name, outcome, startedAt, durationMs, sample, events, message };
  }

  /** Whether the bytes the probe re-read before the offset are the ones we consumed. */
  private anchorHolds(log: ProbeLog, stored: LogOffset | null): boolean {
    if (!log.present || log.reset !== "none" || !stored || stored.anchor === "") return true;
    const anchor = Buffer.from(stored.anchor, "hex");
    if (log.start !== stored.offset - anchor.length) return true;
    return log.bytes.subarray(0, anchor.length).equals(anchor);
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
    if (!this.options.run.follow) return;
    this.followWanted = true;
    await this.openFollow();
  }

  async stopFollow(): Promise<void> {
    this.followWanted = false;
    const handle = this.follow;
    this.follow = null;
    await handle?.stop();
  }

  private reopenFollow(): void {
    if (!this.followWanted) return;
    const handle = this.follow;
    this.follow = null;
    void (handle?.stop() ?? Promise.resolve()).then(() => this.openFollow());
  }

  private async openFollow(): Promise<void> {
    if (!this.followWanted || this.follow || this.followOpening) return;
    const { run, store, transport, onFollowEvents, onFollowError } = this.options;
    const stored = store.offsets.get(run.name);
    // Before the first poll there is no offset to follow from: the poll attaches first.
    if (!stored?.inode) return;
    this.followOpening = true;
    const generation = this.ingestor.generation;
    const inode = stored.inode;
    let position = stored.offset;
    let quietTimer: NodeJS.Timeout | null = null;
    try {
      this.follow = await transport.follow({
        path: this.logPath,
        fromOffset: position,
        onData: (chunk) => {
          // Bytes can still arrive after stop(); the store may be closing by then.
          if (!this.followWanted) return;
          let result: IngestResult;
          try {
            result = this.ingestor.ingest({
              inode,
              start: position,
              bytes: chunk,
              reset: "none",
              generation,
            });
          } catch (error) {
            onFollowError?.(run.name, error as Error);
            this.reopenFollow();
            return;
          }
          position += chunk.length;
          if (result.stale) {
            this.reopenFollow();
            return;
          }
          if (result.events.length > 0) onFollowEvents?.(run.name, result.events);
          // A traceback ends with its exception line; flush once the log goes quiet.
          if (quietTimer) clearTimeout(quietTimer);
          quietTimer = setTimeout(() => {
            if (!this.followWanted) return;
            const flushed = this.ingestor.flush();
            if (flushed.events.length > 0) onFollowEvents?.(run.name, flushed.events);
          }, 300);
          quietTimer.unref();
        },
        onEnd: (error) => {
          this.follow = null;
          if (error) onFollowError?.(run.name, error);
          if (this.followWanted) {
            setTimeout(() => void this.openFollow(), 1000).unref();
          }
        },
      });
    } catch (error) {
      onFollowError?.(run.name, error as Error);
    } finally {
      this.followOpening = false;
    }
  }

  /**
   * Stores the kernel's news: new OOM-killer and GPU lines from whichever kernel log the SSH
   * user can read, else (neither dmesg nor the journal) rises of the trainer cgroup's
   * `oom_kill` counter. Remembers the journal cursor and the trainer's cgroup for next poll.
   */
  private ingestKernel(output: ProbeOutput, trainerPid: number | null): ClassifiedEvent[] {
    const { run, store, clock } = this.options;
    const kernel = parseKernelSection(output.kernel);
    this.kernelSource = kernel.source;
    if (kernel.cursor) this.journalCursor = kernel.cursor;
    if (output.cgroup.trim() !== "") this.cgroupFiles = cgroupCounterFiles(output.cgroup);
    if (trainerPid !== null) this.cgroupPid = trainerPid;
    // Read every poll so the baseline holds; only news when no kernel log tells it better.
    const counted = this.oomCounters.update(parseOomCounters(output.oom));
    const stored = store.offsets.get(run.name);
    if (!stored) return [];
    const { lines, mark } = newKernelLines(
      kernel.lines,
      stored.kernelMark,
      parseUptime(output.uptime),
    );
    const events = lines
      .map((line) => classifyKernelLine(line.text))
      .filter((event): event is ClassifiedEvent => event !== null)
      .concat(kernel.source === "none" ? counted : []);
    const now = clock.now();
    store.transaction(() => {
      for (const event of events) store.events.insert(run.name, now, event);
      store.offsets.set(run.name, { ...stored, kernelMark: mark }, now);
    });
    return events;
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
