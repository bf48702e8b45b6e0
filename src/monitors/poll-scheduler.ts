import cron, { type ScheduledTask } from "node-cron";
import { parseDuration } from "../core/duration.ts";
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
}

/** Raised for an invalid cron expression, naming the config key. */
export class ScheduleError extends Error {
  override readonly name = "ScheduleError";
}

/**
 * Polls every run on a cron schedule. A run whose previous poll is still going is skipped (and
 * the skip recorded), never overlapped: a slow VM must not pile up probes on itself.
 */
export class PollScheduler {
  private task: ScheduledTask | null = null;
  private interval: NodeJS.Timeout | null = null;
  private readonly everyMs: number | null;
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(private readonly options: PollSchedulerOptions) {
    this.everyMs = isDuration(options.expression) ? parseDuration(options.expression) : null;
    if (this.everyMs === null && !cron.validate(options.expression)) {
      throw new ScheduleError(
        `poll: '${options.expression}' is neither a duration nor a cron expression — fix: use e.g. 30s or "*/30 * * * * *"`,
      );
    }
  }

  start(): void {
    if (this.task || this.interval) return;
    if (this.everyMs !== null) {
      this.interval = setInterval(() => this.tick(), this.everyMs);
      return;
    }
    this.task = cron.createTask(this.options.expression, () => this.tick(), {
      name: "trainops-poll",
    });
    void this.task.start();
  }

  /** Starts a poll of every run that is not already being polled. */
  tick(): void {
    for (const monitor of this.options.monitors) {
      if (this.inFlight.has(monitor.name)) {
        monitor.recordSkip();
        continue;
      }
      const job = this.pollOne(monitor).finally(() => this.inFlight.delete(monitor.name));
      this.inFlight.set(monitor.name, job);
    }
  }

  /** Stops scheduling and waits for polls in flight to finish. */
  async stop(): Promise<void> {
    await this.task?.destroy();
    this.task = null;
    if (this.interval) clearInterval(this.interval);
    this.interval = null;
    await Promise.allSettled([...this.inFlight.values()]);
  }

  private async pollOne(monitor: RunMonitor): Promise<void> {
    try {
      const report = await monitor.pollOnce();
      await this.options.onPolled(report);
    } catch (error) {
      this.options.onError?.(monitor.name, error as Error);
    }
  }
}
