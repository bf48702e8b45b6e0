/** Back-off between connection attempts. */
export interface BackoffOptions {
  /** First wait after a failure (default 1 s). */
  initialMs: number;
  /** Longest wait (default 60 s). */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 60_000 };

export interface ConnectionKeeperOptions {
  /** One attempt: resolves when connected, rejects when not. */
  connect: () => Promise<void>;
  /** Errors that no retry fixes (a rejected token): start() rejects with them and retrying stops. */
  isPermanent: (error: unknown) => boolean;
  describe: (error: unknown) => string;
  backoff?: BackoffOptions;
  log: { info(msg: string): void; warn(msg: string): void; error(msg: string): void };
}

type State = "idle" | "connecting" | "waiting" | "connected" | "stopped" | "failed";

/**
 * Keeps a connection up in the background. Slack being unreachable must never take the process
 * down (monitoring goes on and alerts wait in the outbox), so every attempt is caught here and
 * retried with a growing, jittered delay; `start()` resolves at the first success and only
 * rejects for permanent errors. `lost()` is called when a live connection drops.
 */
export class ConnectionKeeper {
  private state: State = "idle";
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private attempt: Promise<void> | undefined;
  private firstConnect: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  private readonly backoff: BackoffOptions;

  constructor(private readonly options: ConnectionKeeperOptions) {
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  /** Whether the last attempt succeeded and nothing has dropped since. */
  get connected(): boolean {
    return this.state === "connected";
  }

  /** Starts connecting; resolves once connected (retrying meanwhile). */
  start(): Promise<void> {
    if (this.state !== "idle")
      return Promise.reject(new Error("the Slack connection was already started"));
    const done = new Promise<void>((resolve, reject) => {
      this.firstConnect = { resolve, reject };
    });
    this.run();
    return done;
  }

  /** A live connection dropped: reconnect right away, then with back-off. */
  lost(reason: string): void {
    if (this.state !== "connected") return;
    this.options.log.warn(`Slack connection lost (${reason}); reconnecting`);
    this.run();
  }

  /** Stops retrying and waits for an attempt in flight to finish. */
  async stop(): Promise<void> {
    this.state = "stopped";
    clearTimeout(this.timer);
    this.timer = undefined;
    // start() stays pending rather than rejecting: a caller that fired it and moved on must not
    // meet an unhandled rejection at shutdown.
    this.firstConnect = undefined;
    await this.attempt?.catch(() => {});
  }

  private run(): void {
    this.state = "connecting";
    this.attempt = this.options
      .connect()
      .then(
        () => this.succeeded(),
        (error: unknown) => this.failed(error),
      )
      .finally(() => {
        this.attempt = undefined;
      });
  }

  private succeeded(): void {
    if (this.state === "stopped") return;
    if (this.failures > 0)
      this.options.log.info(`Connected to Slack after ${this.failures} failed attempts`);
    this.failures = 0;
    this.state = "connected";
    this.firstConnect?.resolve();
    this.firstConnect = undefined;
  }

  private failed(error: unknown): void {
    if (this.state === "stopped") return;
    const why = this.options.describe(error);
    if (this.options.isPermanent(error)) {
      this.state = "failed";
      this.options.log.error(
        `Slack refused the connection: ${why}. Not retrying; fix the token and restart.`,
      );
      this.firstConnect?.reject(new Error(why));
      this.firstConnect = undefined;
      return;
    }
    this.failures += 1;
    const base = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** (this.failures - 1));
    // Jitter keeps many bots from reconnecting in lock-step after a Slack outage.
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    if (this.failures === 1 || this.failures % 10 === 0) {
      this.options.log.warn(
        `Slack is unreachable (${why}); attempt ${this.failures} failed, retrying in ${delay} ms`,
      );
    }
    this.state = "waiting";
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.state === "waiting") this.run();
    }, delay);
    this.timer.unref?.();
  }
}
