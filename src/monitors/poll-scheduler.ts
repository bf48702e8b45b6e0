import cron, { type ScheduledTask } from "node-cron";
import { parseDuration } from "../core/duration.ts";
import { groupByHost } from "./host-poll.ts";
import { ProbeConcurrency } from "./probe-concurrency.ts";
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
   * Polls of one round start spread over this many milliseconds, each host at its own fixed
   * slot. Default: half the time to the next round (0 when rounds are started by hand).
   */
  spreadMs?: number;
  /**
   * Probes running at once, at most (default 32; a host's probe is one); the others wait. Fewer
   * while probes take a large share of their deadline (see ProbeConcurrency).
   */
  maxConcurrent?: number;
  /** A round in which some runs were skipped because their previous poll was still going. */
  onOverrun?: (overrun: RoundOverrun) => void;
  /**
   * Runs of one host polled by one probe: monitors whose `of` is the same non-null value are
   * polled together by `poll` (see pollHost), at the host's offset, taking one slot.
   */
  hosts?: {
    of: (monitor: RunMonitor) => unknown;
    poll: (monitors: RunMonitor[]) => Promise<PollReport[]>;
  };
  /**
   * The pace of the first polls (each host's first connection and probe, the dearest of all):
   * one host every so many milliseconds (default 250), or evenly over {@link FIRST_POLLS_SHARE}
   * of the interval when that is sooner, so a hundred hosts start over most of the first
   * interval, not in one instant, and a few hosts start at once.
   */
  firstRoundMsPerHost?: number;
  /** Draws each host's jitter within its slot, once (default Math.random). */
  random?: () => number;
}

/** A round that could not poll every run: their poll of an earlier round had not started. */
export interface RoundOverrun {
  /** Runs whose poll of an earlier round was still waiting, so this round skipped them. */
  skipped: string[];
  /** Runs polled by the round. */
  runs: number;
}

/** Counters of the schedule, for /metrics. */
export interface PollSchedulerStats {
  rounds: number;
  /** Rounds that skipped some runs because their previous poll was still going. */
  overruns: number;
  /** Polls skipped because the run's previous poll was still going. */
  skipped: number;
  /** Milliseconds from the start of the last finished round to its last poll's end. */
  lastRoundMs: number | null;
  /** Rounds never started: their tick came so late that the next one was already due. */
  missedTicks: number;
  /** Probes allowed in flight now (see ProbeConcurrency). */
  concurrencyLimit: number;
}

/**
 * The share of the interval over which the first polls of all hosts are spread at most: the
 * rest is left for the last of them to connect and finish within one interval of start.
 */
export const FIRST_POLLS_SHARE = 0.8;

/** Raised for an invalid cron expression, naming the config key. */
export class ScheduleError extends Error {
  override readonly name = "ScheduleError";
}

/** Where one host (a group of monitors polled together) stands. */
interface GroupState {
  monitors: RunMonitor[];
  /** Its place in a round, in [0, 1): evenly spaced by rank, jittered within the slot. */
  offset: number;
  /** A poll is scheduled and has not started yet (its slot, its previous poll, a free probe). */
  pending: boolean;
  /** The poll running now; `ended` settles when it ends. */
  running: { ended: Promise<void> } | null;
  /** When its first poll is due (ms since the epoch), until that poll is scheduled. */
  firstAt: number | null;
}

/** One round's skips, reported once every host of the round has had its slot. */
interface Round {
  skipped: string[];
  polled: number;
  undecided: number;
}

/**
 * Polls every run on a cron schedule. A round's polls start spread over part of the interval
 * (each host at a fixed, jittered slot, so its polls stay evenly spaced and a hundred hosts
 * never hit their VMs and the daemon in the same instant) and at most `maxConcurrent` at a time.
 *
 * A host's poll waits for its slot, and then for its previous poll if that is still running:
 * polls of one host never overlap, and one that is merely late still counts for its round.
 * Only when a round begins while the host's poll of an earlier round has not even started is
 * the host skipped (and the skip recorded), so a slow VM cannot pile up probes on itself, and a
 * round that cannot finish in time is reported (`onOverrun`, stats) instead of piling up.
 *
 * `start` also begins a first round at once when the next tick would come too late for every
 * run to be sampled within one interval of start (see {@link PollScheduler.start}).
 */
export class PollScheduler {
  private task: ScheduledTask | null = null;
  private interval: NodeJS.Timeout | null = null;
  private readonly everyMs: number | null;
  private readonly groups: GroupState[];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Polls waiting for a free slot, in order. */
  private readonly waiting: Array<() => void> = [];
  /** Polls waiting for their offset in the round. */
  private readonly delayed = new Set<() => void>();
  private running = 0;
  private readonly concurrency: ProbeConcurrency;
  private stopped = false;
  private readonly counters: PollSchedulerStats = {
    rounds: 0,
    overruns: 0,
    skipped: 0,
    lastRoundMs: null,
    missedTicks: 0,
    concurrencyLimit: 0,
  };

  constructor(private readonly options: PollSchedulerOptions) {
    this.everyMs = isDuration(options.expression) ? parseDuration(options.expression) : null;
    if (this.everyMs === null && !cron.validate(options.expression)) {
      throw new ScheduleError(
        `poll: '${options.expression}' is neither a duration nor a cron expression — fix: use e.g. 30s or "*/30 * * * * *"`,
      );
    }
    const groups = options.hosts
      ? groupByHost(options.monitors, options.hosts.of)
      : options.monitors.map((monitor) => [monitor]);
    this.groups = slotsOf(groups, options.random ?? Math.random).map(({ monitors, offset }) => ({
      monitors,
      offset,
      pending: false,
      running: null,
      firstAt: null,
    }));
    this.concurrency = new ProbeConcurrency({ max: options.maxConcurrent ?? 32 });
  }

  /**
   * Starts the schedule. Every run must be sampled within one interval of start, and the first
   * polls (a connection, a handshake and a first read of every log: several times a later
   * poll's cost) must not all come at once: each host's first poll is due at its slot of a
   * start-up window, `firstRoundMsPerHost` per host or {@link FIRST_POLLS_SHARE} of the
   * interval if sooner. Hosts whose first poll is due before the next tick are polled by a
   * first round now; the others by the next tick's round, each still at its own time.
   */
  start(): void {
    if (this.task || this.interval) return;
    this.stopped = false;
    if (this.everyMs !== null) {
      this.interval = setInterval(() => this.tick(), this.everyMs);
    } else {
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
    const toNext = this.msToNext();
    const everyMs = this.intervalMs() ?? toNext;
    const windowMs = Math.min(
      everyMs * FIRST_POLLS_SHARE,
      this.groups.length * (this.options.firstRoundMsPerHost ?? 250),
    );
    const now = Date.now();
    for (const group of this.groups) group.firstAt = now + group.offset * windowMs;
    if (this.groups.some((group) => group.offset * windowMs < toNext)) {
      this.runRound(undefined, now + toNext);
    }
  }

  /** The schedule's counters so far. */
  stats(): PollSchedulerStats {
    return { ...this.counters, concurrencyLimit: this.concurrency.limit };
  }

  /**
   * Starts a round: schedules a poll of every host at its slot. `spreadMs` overrides the spread
   * for this round (0: every host at once).
   */
  tick(round: { spreadMs?: number } = {}): void {
    this.runRound(round.spreadMs);
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
    await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Schedules a round. `firstBefore`: a first round, of the hosts whose first poll is due
   * before then (the others' comes with the next tick's round).
   */
  private runRound(spreadMs: number | undefined, firstBefore?: number): void {
    this.stopped = false;
    const started = Date.now();
    const spread = spreadMs ?? this.options.spreadMs ?? Math.max(0, this.msToNext() / 2);
    const groups =
      firstBefore === undefined
        ? this.groups
        : this.groups.filter((group) => group.firstAt !== null && group.firstAt < firstBefore);
    const round: Round = {
      skipped: [],
      polled: 0,
      undecided: groups.length,
    };
    const jobs: Promise<void>[] = [];
    this.counters.rounds += 1;
    for (const group of groups) {
      if (group.pending) {
        // Its poll of an earlier round has not even started: this round's would pile up.
        this.skip(round, group);
        continue;
      }
      group.pending = true;
      // A host's first poll keeps its time in the start-up window; later ones their slot.
      const delay =
        group.firstAt !== null ? Math.max(0, group.firstAt - started) : spread * group.offset;
      group.firstAt = null;
      const job = this.schedule(group, delay, round);
      this.inFlight.add(job);
      void job.finally(() => this.inFlight.delete(job));
      jobs.push(job);
    }
    void Promise.allSettled(jobs).then(() => {
      this.counters.lastRoundMs = Date.now() - started;
    });
  }

  /** Records a skip of every run of the host in this round. */
  private skip(round: Round, group: GroupState): void {
    for (const monitor of group.monitors) {
      monitor.recordSkip();
      round.skipped.push(monitor.name);
    }
    this.counters.skipped += group.monitors.length;
    this.decided(round);
  }

  /** One more host of the round had its slot; after the last, the round reports its skips. */
  private decided(round: Round): void {
    round.undecided -= 1;
    if (round.undecided > 0 || round.skipped.length === 0) return;
    this.counters.overruns += 1;
    this.options.onOverrun?.({ skipped: round.skipped, runs: round.polled });
  }

  /** Waits for the host's slot and a free probe, then polls it (unless stopped meanwhile). */
  private async schedule(group: GroupState, delayMs: number, round: Round): Promise<void> {
    let polling = false;
    let ended = () => {};
    try {
      if (delayMs >= 1) await this.delay(delayMs);
      if (this.stopped) return;
      // Still polling from an earlier round: this round's poll follows when that one ends,
      // late but not lost, unless the next round begins first (which then skips the host).
      while (group.running) {
        await group.running.ended;
        if (this.stopped) return;
      }
      while (this.running >= this.concurrency.limit) {
        await new Promise<void>((resolve) => this.waiting.push(resolve));
        if (this.stopped) return;
      }
      this.running += 1;
      polling = true;
      group.pending = false;
      group.running = { ended: new Promise<void>((resolve) => (ended = resolve)) };
      round.polled += group.monitors.length;
      this.decided(round);
      const began = Date.now();
      const tookMs = await this.pollGroup(group.monitors);
      this.concurrency.finished(
        tookMs ?? Date.now() - began,
        (group.monitors[0] as RunMonitor).execTimeoutMs(),
      );
    } finally {
      group.pending = false;
      // A poll dropped by stop() before its slot leaves its round unreported, as it should.
      if (polling) {
        group.running = null;
        ended();
        this.running -= 1;
        // The limit may have risen: wake as many waiting polls as there are free slots.
        while (this.running < this.concurrency.limit && this.waiting.length > 0) {
          this.waiting.shift()?.();
        }
      }
    }
  }

  /** Resolves after `ms`, or at once when stop() is called. */
  private delay(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.timers.delete(timer);
        this.delayed.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      timer.unref?.();
      this.timers.add(timer);
      this.delayed.add(wake);
    });
  }

  /** Milliseconds to the next tick (0 when rounds are started by hand). */
  private msToNext(): number {
    if (this.task) return this.task.msToNext() ?? 0;
    return this.interval ? (this.everyMs ?? 0) : 0;
  }

  /** Milliseconds between two ticks of the schedule, when it has ticks. */
  private intervalMs(): number | null {
    if (this.everyMs !== null) return this.everyMs;
    const [next, after] = this.task?.getNextRuns(2) ?? [];
    return next && after ? after.getTime() - next.getTime() : null;
  }

  /** Polls a host; returns how long its probe took (null when it threw). */
  private async pollGroup(group: RunMonitor[]): Promise<number | null> {
    const { hosts } = this.options;
    let reports: PollReport[];
    try {
      reports =
        hosts && group.length > 1
          ? await hosts.poll(group)
          : [await (group[0] as RunMonitor).pollOnce()];
    } catch (error) {
      for (const monitor of group) this.options.onError?.(monitor.name, error as Error);
      return null;
    }
    for (const report of reports) {
      try {
        await this.options.onPolled(report);
      } catch (error) {
        this.options.onError?.(report.run, error as Error);
      }
    }
    return Math.max(0, ...reports.map((report) => report.durationMs));
  }
}

/**
 * Each host's place in a round: hosts ranked by a hash of their first run's name (so a host
 * keeps its rank whatever order the config lists them in) get evenly spaced slots, each
 * jittered within its slot once: no two hosts share an instant, and none drifts round to round.
 */
function slotsOf(
  groups: RunMonitor[][],
  random: () => number,
): Array<{ monitors: RunMonitor[]; offset: number }> {
  const ranked = groups
    .map((monitors) => ({ monitors, hash: fnv1a((monitors[0] as RunMonitor).name) }))
    .sort((a, b) => a.hash - b.hash);
  const rank = new Map(ranked.map((entry, i) => [entry.monitors, i]));
  return groups.map((monitors) => ({
    monitors,
    offset: ((rank.get(monitors) ?? 0) + Math.min(0.999, Math.max(0, random()))) / groups.length,
  }));
}

/** FNV-1a of a string, as an unsigned 32-bit integer. */
function fnv1a(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
