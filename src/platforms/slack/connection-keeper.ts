import { Backoff, type BackoffOptions } from "../../core/backoff.ts";

export interface ConnectionKeeperOptions {
  /** One attempt: resolves when connected, rejects when not. */
  connect: () => Promise<void>;
  /** Errors that no retry fixes (a rejected token): start() rejects with them and retrying stops. */
  isPermanent: (error: unknown) => boolean;
  describe: (error: unknown) => string;
  /** Waits between attempts (default 1 s doubling to 60 s, jittered; stable after 60 s up). */
  backoff?: BackoffOptions;
  log: { info(msg: string): void; warn(msg: string): void; error(msg: string): void };
}

type State = "idle" | "connecting" | "waiting" | "connected" | "stopped" | "failed";

/**
 * Keeps a connection up in the background. Slack being unreachable must never take the process
 * down (monitoring goes on and alerts wait in the outbox), so every attempt is caught here and
 * retried with a growing, jittered delay; `start()` resolves at the first success and only
 * rejects for permanent errors. `lost()` is called when a live connection drops: after a stable
 * connection the first wait is short, after one that dropped soon the waits keep growing, so a
 * link Slack opens and closes at once is not reopened in a tight loop.
 */
export class ConnectionKeeper {
  private state: State = "idle";
  /** Failed attempts since the last success (for the log). */
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private attempt: Promise<void> | undefined;
  private firstConnect: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  private readonly backoff: Backoff;

  constructor(private readonly options: ConnectionKeeperOptions) {
    this.backoff = new Backoff(options.backoff);
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

  /** A live connection dropped: reconnect after the back-off's wait. */
  lost(reason: string): void {
    if (this.state !== "connected") return;
    const delay = this.backoff.nextDelayMs();
    this.options.log.warn(`Slack connection lost (${reason}); reconnecting in ${delay} ms`);
    this.wait(delay);
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
    this.backoff.connected();
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
    const delay = this.backoff.nextDelayMs();
    if (this.failures === 1 || this.failures % 10 === 0) {
      this.options.log.warn(
        `Slack is unreachable (${why}); attempt ${this.failures} failed, retrying in ${delay} ms`,
      );
    }
    this.wait(delay);
  }

  private wait(delay: number): void {
    this.state = "waiting";
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.state === "waiting") this.run();
    }, delay);
    this.timer.unref?.();
  }
}
