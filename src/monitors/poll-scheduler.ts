import cron, { type ScheduledTask } from "node-cron";
import { parseDuration } from "../core/duration.ts";
import { groupByHost } from "./host-poll.ts";
import type { PollReport, RunMonitor } from "./run-monitor.ts";

/** `30s`, `1m`, `500ms`: a poll interval rather than a cron expression. */
function isDuration(text: string): boolean {
  return /^\d+(\.\d+)?(ms|s|m|h|d)$/.test(text.trim());
}

export interface PollSchedulerOptions {
  /** A duration (`30s`: every 30 s from start) or a node-cron expression (`*\/30 * * * * *`). */
  expression: string;
  monitors: readonly RunMonitor[];
  /** Called after each completed poll (alerts, phase engine, metrics hang off this). */
  onPolled: (report: PollReport) => void | Promise<void>;
  /** Called when onPolled throws, so one bad consumer cannot stop the schedule. */
  onError?: (run: string, error: Error) => void;
  /**
   * Polls of one round start spread over this many milliseconds, each run at its own fixed
   * offset. Default: half the time to the next round (0 when rounds are started by hand).
   */
  spreadMs?: number;
  /** Probes running at once, at most (default 32; a host's probe is one); the others wait. */
  maxConcurrent?: number;
  /** A round started while polls of the previous one were still waiting or running. */
  onOverrun?: (overrun: RoundOverrun) => void;
  /**
   * Runs of one host polled by one probe: monitors whose `of` is the same non-null value are
   * polled together by `poll` (see pollHost), at the host's offset, taking one slot.
   */
  hosts?: {
    of: (monitor: RunMonitor) => unknown;
    poll: (monitors: RunMonitor[]) => Promise<PollReport[]>;
  };
}

/** A round that did not finish before the next one began. */
export interface RoundOverrun {
  /** Runs whose previous poll was still waiting or running, so this round skips them. */
  skipped: string[];
  /** Runs polled by the round. */
  runs: number;
}

/** Counters of the schedule, for /metrics. */
export interface PollSchedulerStats {
  rounds: number;
  /** Rounds that began before the previous one had finished. */
  overruns: number;
  /** Polls skipped because the run's previous poll was still going. */
  skipped: number;
  /** Milliseconds from the start of the last finished round to its last poll's end. */
  lastRoundMs: number | null;
  /** Rounds never started: their tick came so late that the next one was already due. */
  missedTicks: number;
}

/** Raised for an invalid cron expression, naming the config key. */
export class ScheduleError extends Error {
  override readonly name = "ScheduleError";
}

/**
 * Polls every run on a cron schedule. A round's polls start spread over part of the interval
 * (each run at a fixed offset from a hash of its name, so its polls stay evenly spaced) and at
 * most `maxConcurrent` at a time, so a thousand runs never hit their VMs and the daemon in the
 * same instant. A run whose previous poll is still going is skipped (and the skip recorded),
 * never overlapped: a slow VM must not pile up probes on itself, and a round that cannot finish
 * in time is reported (`onOverrun`, stats) instead of piling up.
 */
export class PollScheduler {
  private task: ScheduledTask | null = null;
  private interval: NodeJS.Timeout | null = null;
  private readonly everyMs: number | null;
  /** Monitors polled together (one host's), each group under its first run's name. */
  private readonly groups: RunMonitor[][];
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Polls waiting for a free slot, in order. */
  private readonly waiting: Array<() => void> = [];
  /** Polls waiting for their offset in the round. */
  private readonly delayed = new Set<() => void>();
  private running = 0;
  private stopped = false;
  private readonly counters: PollSchedulerStats = {
    rounds: 0,
    overruns: 0,
    skipped: 0,
    lastRoundMs: null,
    missedTicks: 0,
  };

  constructor(private readonly options: PollSchedulerOptions) {
    this.everyMs = isDuration(options.expression) ? parseDuration(options.expression) : null;
    this.groups = options.hosts
      ? groupByHost(options.monitors, options.hosts.of)
      : options.monitors.map((monitor) => [monitor]);
    if (this.everyMs === null && !cron.validate(options.expression)) {
      throw new ScheduleError(
        `poll: '${options.expression}' is neither a duration nor a cron expression — fix: use e.g. 30s or "*/30 * * * * *"`,
      );
    }
  }

  start(): void {
    if (this.task || this.interval) return;
    this.stopped = false;
    if (this.everyMs !== null) {
      this.interval = setInterval(() => this.tick(), this.everyMs);
      return;
    }
    this.task = cron.createTask(this.options.expression, () => this.tick(), {
      name: "trainops-poll",
      // node-cron drops a tick whose timer fires more than 1 s late (a busy CPU, a long store
      // transaction): that is a whole round missed. A late round still runs, unless the next
      // one is already due; only then is the tick lost, and counted.
      missedExecutionTolerance: 24 * 3600 * 1000,
    });
    this.task.on("execution:missed", () => {
      this.counters.missedTicks += 1;
    });
    void this.task.start();
  }

  /** The schedule's counters so far. */
  stats(): PollSchedulerStats {
    return { ...this.counters };
  }

  /**
   * Starts a round: schedules a poll of every run that is not already being polled. `spreadMs`
   * overrides the spread for this round (0 at start-up: every run's first sample at once).
   */
  tick(round: { spreadMs?: number } = {}): void {
    this.stopped = false;
    const started = Date.now();
    const toNext = this.task ? (this.task.msToNext() ?? 0) : this.interval ? this.everyMs : 0;
    const spread = round.spreadMs ?? this.options.spreadMs ?? Math.max(0, (toNext ?? 0) / 2);
    const skipped: string[] = [];
    const jobs: Promise<void>[] = [];
    let polled = 0;
    this.counters.rounds += 1;
    for (const group of this.groups) {
      const key = (group[0] as RunMonitor).name;
      if (this.inFlight.has(key)) {
        for (const monitor of group) {
          monitor.recordSkip();
          skipped.push(monitor.name);
        }
        continue;
      }
      const job = this.schedule(group, spread * offsetOf(key)).finally(() =>
        this.inFlight.delete(key),
      );
      this.inFlight.set(key, job);
      jobs.push(job);
      polled += group.length;
    }
    if (skipped.length > 0) {
      this.counters.overruns += 1;
      this.counters.skipped += skipped.length;
      this.options.onOverrun?.({ skipped, runs: polled });
    }
    void Promise.allSettled(jobs).then(() => {
      this.counters.lastRoundMs = Date.now() - started;
    });
  }

  /** Stops scheduling, drops polls not started yet, and waits for those in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.task?.destroy();
    this.task = null;
    if (this.interval) clearInterval(this.interval);
    this.interval = null;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const wake of this.waiting.splice(0)) wake();
    for (const wake of this.delayed) wake();
    this.delayed.clear();
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Waits for the group's offset and a free slot, then polls it (unless stopped meanwhile). */
  private async schedule(group: RunMonitor[], delayMs: number): Promise<void> {
    if (delayMs >= 1) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.timers.delete(timer);
          this.delayed.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, delayMs);
        timer.unref?.();
        this.timers.add(timer);
        // stop() clears the timers and wakes the polls that wait, which then do not run.
        this.delayed.add(wake);
      });
    }
    if (this.stopped) return;
    const max = this.options.maxConcurrent ?? 32;
    while (this.running >= max) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      if (this.stopped) return;
    }
    this.running += 1;
    try {
      await this.pollGroup(group);
    } finally {
      this.running -= 1;
      this.waiting.shift()?.();
    }
  }

  private async pollGroup(group: RunMonitor[]): Promise<void> {
    const { hosts } = this.options;
    let reports: PollReport[];
    try {
      reports =
        hosts && group.length > 1
          ? await hosts.poll(group)
          : [await (group[0] as RunMonitor).pollOnce()];
    } catch (error) {
      for (const monitor of group) this.options.onError?.(monitor.name, error as Error);
      return;
    }
    for (const report of reports) {
      try {
        await this.options.onPolled(report);
      } catch (error) {
        this.options.onError?.(report.run, error as Error);
      }
    }
  }
}

/** A run's fixed place in the round, in [0, 1): FNV-1a of its name. */
function offsetOf(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) / 2 ** 32;
}
