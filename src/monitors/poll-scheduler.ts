import cron, { type ScheduledTask } from "node-cron";
import type { PollReport, RunMonitor } from "./run-monitor.ts";

export interface PollSchedulerOptions {
  /** node-cron expression, e.g. `*\/30 * * * * *`. */
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
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(private readonly options: PollSchedulerOptions) {
    if (!cron.validate(options.expression)) {
      throw new ScheduleError(
        `poll: '${options.expression}' is not a cron expression — fix: use e.g. "*/30 * * * * *" (every 30 s)`,
      );
    }
  }

  start(): void {
    if (this.task) return;
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
