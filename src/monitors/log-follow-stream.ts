import type { RunConfig } from "../config/schema.ts";
import { Backoff, type BackoffOptions } from "../core/backoff.ts";
import type { Clock } from "../core/clock.ts";
import type { LinePattern } from "../model/line-pattern.ts";
import type { ClassifiedEvent } from "../model/monitoring.ts";
import type { FollowHandle, Transport } from "../transport/transport.ts";
import { FollowWakeFilter } from "./follow-wake-filter.ts";

/** Where a follow stream starts: the log on the VM and the stored read position in it. */
export interface FollowStart {
  path: string;
  offset: number;
}

/** What a follow stream's wake-up read found (see RunMonitor.readLog). */
export interface FollowRead {
  /** Events stored, and earlier ones whose kind changed: news to the alert rules. */
  events: ClassifiedEvent[];
  /** Lines that matched the user's patterns. */
  matched: number;
}

/** Options of {@link LogFollowStream}. */
export interface LogFollowStreamOptions {
  run: RunConfig;
  transport: Transport;
  clock: Clock;
  /** The user's log-line patterns for this run (they wake a read as errors do). */
  patterns?: readonly LinePattern[];
  /** Waits before reopening a stream that ended or failed to open (default 1 s to 60 s). */
  backoff?: BackoffOptions;
  /** Where to follow from now; null before the first poll attached to the log. */
  start: () => FollowStart | null;
  /** Reads the log from its stored offset and stores what it finds (the wake-up's work). */
  read: () => Promise<FollowRead>;
  /** Called with the events a wake-up read stored (for fast alerts). */
  onEvents?: (run: string, events: ClassifiedEvent[]) => void;
  /** Reports stream or read trouble; the stream reopens by itself. */
  onError?: (run: string, error: Error) => void;
}

/**
 * The follow stream of one run's log: opened from the stored offset once a poll has attached
 * to the log, reopened with back-off when it ends, and restarted when the log's identity
 * changes. Its bytes are wake-ups only: a burst runs one {@link LogFollowStreamOptions.read},
 * which applies the log's bytes under the same lock and transaction as a poll, so a truncation
 * or rotation seen by the stream never doubles or skips a line.
 */
export class LogFollowStream {
  private follow: FollowHandle | null = null;
  private wanted = false;
  private opening = false;
  /** Real time, as the reopen timers are: a stream that ends at once is not reopened in a loop. */
  private readonly backoff: Backoff;
  private reading = false;
  private wokenAgain = false;
  private readonly wakeFilter: FollowWakeFilter;

  constructor(private readonly options: LogFollowStreamOptions) {
    this.wakeFilter = new FollowWakeFilter(options.clock, options.patterns ?? []);
    this.backoff = new Backoff(options.backoff);
  }

  /** Opens the stream (if the run's `follow` is on) and keeps it open until {@link stop}. */
  async start(): Promise<void> {
    if (!this.options.run.follow) return;
    this.wanted = true;
    await this.open();
  }

  /** Closes the stream for good (until the next {@link start}). */
  async stop(): Promise<void> {
    this.wanted = false;
    const handle = this.follow;
    this.follow = null;
    await handle?.stop();
  }

  /** Closes and opens the stream again from the stored offset (the log was replaced). */
  reopen(): void {
    if (!this.wanted) return;
    const handle = this.follow;
    this.follow = null;
    void (handle?.stop() ?? Promise.resolve()).then(() => this.open());
  }

  /** Opens a `tail -f` from the stored offset. */
  private async open(): Promise<void> {
    if (!this.wanted || this.follow || this.opening) return;
    const { run, transport, onError } = this.options;
    const start = this.options.start();
    // Before the first poll there is no offset to follow from: the poll attaches first.
    if (start === null) return;
    this.opening = true;
    try {
      this.follow = await transport.follow({
        path: start.path,
        fromOffset: start.offset,
        onData: (chunk) => {
          // `followWakes: errors`: progress lines wait for the poll (see FollowWakeFilter).
          if (this.wanted && (run.followWakes === "all" || this.wakeFilter.wants(chunk))) {
            this.wake();
          }
        },
        onEnd: (error) => {
          this.follow = null;
          if (error) onError?.(run.name, error);
          this.schedule();
        },
      });
      this.backoff.connected();
      // The reads this stream wakes run on the connection's urgent shell (see readLog); opening
      // it costs the VM a session and a login shell, which under load takes several times a
      // read's time: open it now rather than when an error line is waiting.
      void transport.run(":", { urgent: true }).catch(() => undefined);
    } catch (error) {
      onError?.(run.name, error as Error);
      this.schedule();
    } finally {
      this.opening = false;
    }
  }

  /** Reopens the stream after the back-off's wait (growing while it keeps failing). */
  private schedule(): void {
    if (!this.wanted) return;
    setTimeout(() => void this.open(), this.backoff.nextDelayMs()).unref();
  }

  /** One read per burst of follow bytes: bytes that arrive during a read ask for one more. */
  private wake(): void {
    if (this.reading) {
      this.wokenAgain = true;
      return;
    }
    this.reading = true;
    void (async () => {
      const { run, onEvents, onError } = this.options;
      do {
        this.wokenAgain = false;
        try {
          const { events, matched } = await this.options.read();
          // A pattern match alerts as fast as a classified error.
          if ((events.length > 0 || matched > 0) && this.wanted) onEvents?.(run.name, events);
        } catch (error) {
          if (this.wanted) onError?.(run.name, error as Error);
          break;
        }
      } while (this.wokenAgain && this.wanted);
      this.reading = false;
    })();
  }
}
