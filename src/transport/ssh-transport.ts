import type { SshTarget } from "../config/schema.ts";
import { Backoff, type BackoffSettings } from "../core/backoff.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import type { ConnectGate } from "./connect-gate.ts";
import { execScript } from "./exec-script.ts";
import { attachFollow, type FollowChannel } from "./follow-channel.ts";
import { FollowDemux } from "./follow-demux.ts";
import { RemoteShell, RemoteShellClosedError, RemoteShellTimeoutError } from "./remote-shell.ts";
import { shellQuote } from "./shell-quote.ts";
import { hopName, openSshConnection, type SshConnection } from "./ssh-connection.ts";
import { type ResolvedTarget, resolveTarget } from "./ssh-target-resolution.ts";
import { openExec, type Ssh2Channel } from "./ssh2-types.ts";
import {
  type ExecOptions,
  type ExecResult,
  type FollowHandle,
  type FollowManyOptions,
  type FollowOptions,
  type Transport,
  TransportConnectError,
  TransportTimeoutError,
} from "./transport.ts";
import { withTimeout } from "./with-timeout.ts";

/** How long a new channel may take to be acknowledged before the connection counts as stuck. */
const ALIVE_CHECK_MS = 5000;

/** Options of {@link SshTransport}. */
export interface SshTransportOptions {
  /** Time source for the reconnect backoff. */
  clock?: Clock;
  /** Home directory for `~` and ~/.ssh defaults (tests point it elsewhere). */
  home?: string;
  /**
   * Waits after failed connection attempts: the ceiling doubles from `initialMs` (1 s) to
   * `maxMs` (60 s), each wait drawn from the upper half of its ceiling.
   */
  backoff?: Partial<Pick<BackoffSettings, "initialMs" | "maxMs">> & { random?: () => number };
  /** TCP_NODELAY on the socket; on by default (turning it off exists to measure Nagle's cost). */
  noDelay?: boolean;
  /**
   * Run scripts in one long-lived remote sh (default) instead of a fresh exec per script,
   * which runs the login shell and its rc file every time.
   */
  persistentShell?: boolean;
  /** Limits handshakes in flight across transports (see createConnectGate); none by default. */
  connectGate?: ConnectGate;
}

interface Live extends SshConnection {
  closed: boolean;
  shell?: RemoteShell;
  /** The shell of urgent scripts (see ExecOptions.urgent), opened at the first one. */
  urgentShell?: RemoteShell;
  follows: Set<FollowChannel>;
}

/**
 * Runs probe scripts over ONE persistent SSH connection per VM: our own TCP socket with
 * TCP_NODELAY, keepalive, the host key always verified, a timeout on every script, and
 * on-demand reconnect after a drop.
 *
 * Connecting is on demand (the next script or follow), so a dropped connection is reopened at
 * most once per poll of the host; an attempt that fails makes every call until the back-off's
 * jittered, capped wait has passed fail at once without touching the network, so an unreachable
 * VM gets fewer attempts, never more, however many runs and polls share it.
 */
export class SshTransport implements Transport {
  readonly description: string;
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private readonly noDelay: boolean;
  private readonly persistentShell: boolean;
  private resolved: ResolvedTarget | undefined;
  private live: Live | undefined;
  private connecting: Promise<Live> | undefined;
  private retryAt = 0;
  private lastError: Error | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private urgentQueue: Promise<unknown> = Promise.resolve();
  /** Connections opened so far (1 while the first one lives; grows on reconnects). */
  connectCount = 0;

  constructor(
    private readonly target: SshTarget,
    private readonly options: SshTransportOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.backoff = new Backoff({ ...options.backoff, clock: this.clock });
    this.noDelay = options.noDelay ?? true;
    this.persistentShell = options.persistentShell ?? true;
    const port = target.port ? `:${target.port}` : "";
    this.description = `${target.user ? `${target.user}@` : ""}${target.host}${port}`;
  }

  run(script: string, options: ExecOptions = {}): Promise<ExecResult> {
    // One script at a time per shell: a remote shell is a single pipe. Urgent scripts have
    // their own shell, so they never queue behind a probe.
    if (options.urgent) {
      const next = this.urgentQueue.then(() => this.runNow(script, options));
      this.urgentQueue = next.catch(() => undefined);
      return next;
    }
    const next = this.queue.then(() => this.runNow(script, options));
    this.queue = next.catch(() => undefined);
    return next;
  }

  async follow(options: FollowOptions): Promise<FollowHandle> {
    const live = await this.connection();
    const offset = Math.max(0, Math.floor(options.fromOffset)) + 1;
    let channel: Ssh2Channel;
    try {
      channel = await openExec(
        live.client,
        // -f follows the file as opened: after a rotation the stream stays on the old file
        // (which gets no more lines) and the next poll, seeing the new inode, reopens it.
        // -F would switch files mid-stream and break the byte offsets.
        `exec tail -c +${offset} -f -- ${shellQuote(options.path)}`,
      );
    } catch (error) {
      this.drop(live, error as Error);
      throw new TransportConnectError(
        `cannot follow ${options.path} on ${this.description}: ${(error as Error).message}`,
      );
    }
    return attachFollow(channel, live.follows, options);
  }

  /**
   * One `tail -v -n 0 -F` of every path on one channel; its headers (`==> path <==`) tell whose
   * bytes follow (see FollowDemux). A channel sshd refuses (MaxSessions) fails this call only:
   * the connection and its shell are fine.
   */
  async followMany(options: FollowManyOptions): Promise<FollowHandle> {
    const live = await this.connection();
    let channel: Ssh2Channel;
    try {
      channel = await openExec(
        live.client,
        `exec tail -v -n 0 -F -- ${options.paths.map(shellQuote).join(" ")}`,
      );
    } catch (error) {
      throw new TransportConnectError(
        `cannot follow ${options.paths.length} logs on ${this.description}: ${(error as Error).message}`,
      );
    }
    const demux = new FollowDemux(options.paths);
    return attachFollow(channel, live.follows, {
      path: `${options.paths.length} logs`,
      fromOffset: 0,
      onData: (chunk) => {
        for (const [path, bytes] of demux.push(chunk)) options.onData(path, bytes);
      },
      onEnd: options.onEnd,
    });
  }

  async close(): Promise<void> {
    const live = this.live;
    this.live = undefined;
    this.backoff.reset();
    this.retryAt = 0;
    if (!live) return;
    live.closed = true;
    for (const follow of [...live.follows]) follow.end();
    await Promise.all([live.shell?.close(), live.urgentShell?.close()]);
    live.client.end();
    live.jumpClient?.end();
  }

  private async runNow(script: string, options: ExecOptions): Promise<ExecResult> {
    const live = await this.connection();
    this.resolved ??= resolveTarget(this.target, { home: this.options.home });
    const timeoutMs = options.timeoutMs ?? this.resolved.execTimeoutMs;
    return this.persistentShell
      ? this.runInShell(live, script, timeoutMs, options.urgent ? "urgentShell" : "shell")
      : this.runInFreshExec(live, script, timeoutMs);
  }

  private async runInShell(
    live: Live,
    script: string,
    timeoutMs: number,
    slot: "shell" | "urgentShell",
  ): Promise<ExecResult> {
    const started = this.clock.now();
    let shell = live[slot];
    if (!shell?.usable) {
      live[slot] = undefined;
      const opening = RemoteShell.open(live.client);
      try {
        shell = await withTimeout(opening, timeoutMs);
      } catch (error) {
        // A shell that opens after the timeout (slow rc file) is not wanted any more.
        opening.then(
          (late) => late.close(),
          () => undefined,
        );
        throw this.channelFailure(live, error as Error, timeoutMs);
      }
      live[slot] = shell;
    }
    const remaining = Math.max(1, timeoutMs - (this.clock.now() - started));
    try {
      return await shell.run(script, remaining);
    } catch (error) {
      live[slot] = undefined;
      if (error instanceof RemoteShellTimeoutError) {
        // The script may still hang on the VM (a stuck nvidia-smi): kill it, start afresh.
        void shell.close({ kill: true });
        await this.dropIfStuck(live);
        throw new TransportTimeoutError(
          `script on ${this.description} ran past ${timeoutMs} ms and was killed`,
        );
      }
      throw this.channelFailure(live, error as Error, timeoutMs);
    }
  }

  private async runInFreshExec(live: Live, script: string, timeoutMs: number): Promise<ExecResult> {
    let channel: Ssh2Channel | undefined;
    const work = execScript(live.client, script, (opened) => {
      channel = opened;
    });
    try {
      return await withTimeout(work, timeoutMs);
    } catch (error) {
      if (error instanceof RemoteShellTimeoutError) {
        const ch = channel as Ssh2Channel | undefined;
        ch?.signal("KILL");
        ch?.close();
        await this.dropIfStuck(live);
        throw new TransportTimeoutError(`script on ${this.description} ran past ${timeoutMs} ms`);
      }
      throw this.channelFailure(live, error as Error, timeoutMs);
    }
  }

  /**
   * After a timeout: is it the script that hangs, or the connection? A new exec channel is
   * acknowledged by sshd before any shell or rc file runs, so one that is not within a few
   * seconds means the VM (or its sshd) stopped answering: the connection is dropped and the
   * next script connects afresh instead of waiting on it again.
   */
  private async dropIfStuck(live: Live): Promise<void> {
    if (live.closed) return;
    const opening = openExec(live.client, "true");
    try {
      const channel = await withTimeout(opening, ALIVE_CHECK_MS);
      channel.resume();
      channel.stderr.resume();
      channel.close();
    } catch {
      opening.then(
        (late) => late.close(),
        () => undefined,
      );
      this.drop(live, new Error(`no answer to a new channel within ${ALIVE_CHECK_MS / 1000} s`));
    }
  }

  /** A channel that failed to open or died: the connection is suspect, so drop it. */
  private channelFailure(live: Live, error: Error, timeoutMs: number): Error {
    if (error instanceof RemoteShellTimeoutError) {
      // No shell in time: the connection itself may be stuck (see dropIfStuck).
      void this.dropIfStuck(live);
      return new TransportTimeoutError(
        `no shell on ${this.description} within ${timeoutMs} ms (the connection may be stuck)`,
      );
    }
    if (error instanceof TransportConnectError) return error;
    if (error instanceof RemoteShellClosedError && !live.closed) {
      // Only the shell died (killed on the VM); the connection stays, the next call starts a new one.
      return new TransportConnectError(
        `the remote shell on ${this.description} ended while running the script`,
      );
    }
    this.drop(live, error);
    return new TransportConnectError(`connection to ${this.description} lost: ${error.message}`);
  }

  private drop(live: Live, error: Error): void {
    if (live.closed) return;
    live.closed = true;
    if (this.live === live) this.live = undefined;
    const lost = new TransportConnectError(
      `connection to ${this.description} lost: ${error.message}`,
    );
    for (const follow of [...live.follows]) follow.end(lost);
    live.shell?.abort(lost);
    live.shell = undefined;
    live.urgentShell?.abort(lost);
    live.urgentShell = undefined;
    live.client.destroy();
    live.jumpClient?.destroy();
  }

  private async connection(): Promise<Live> {
    if (this.live && !this.live.closed) return this.live;
    if (this.connecting) return this.connecting;
    const now = this.clock.now();
    if (now < this.retryAt && this.lastError) {
      const seconds = Math.ceil((this.retryAt - now) / 1000);
      throw new TransportConnectError(`${this.lastError.message} (next attempt in ${seconds} s)`);
    }
    this.connecting = this.openLive().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async openLive(): Promise<Live> {
    try {
      // Re-read ~/.ssh/config and known_hosts on every (re)connect: the user may fix them.
      this.resolved = resolveTarget(this.target, { home: this.options.home });
      const resolved = this.resolved;
      const open = () => openSshConnection(resolved, { noDelay: this.noDelay });
      const connection = await (this.options.connectGate ? this.options.connectGate(open) : open());
      const live: Live = { ...connection, closed: false, follows: new Set() };
      const onGone = (error?: Error) =>
        this.drop(live, error ?? new Error("the server closed the connection"));
      live.client.on("error", (error: Error) => onGone(error));
      live.client.on("close", () => onGone());
      live.client.on("end", () => onGone());
      this.live = live;
      // A connection that authenticated is a success: the next drop is retried at the next call.
      this.backoff.reset();
      this.retryAt = 0;
      this.lastError = undefined;
      this.connectCount++;
      return live;
    } catch (error) {
      const wrapped =
        error instanceof TransportConnectError
          ? error
          : new TransportConnectError(
              `cannot connect to ${this.description}: ${(error as Error).message}`,
            );
      this.retryAt = this.clock.now() + this.backoff.nextDelayMs();
      this.lastError = wrapped;
      throw wrapped;
    }
  }

  /** `user@host:port` after ~/.ssh/config resolution (for `trainops check`). */
  resolvedDescription(): string {
    const resolved = resolveTarget(this.target, { home: this.options.home });
    return hopName(resolved.target);
  }
}
