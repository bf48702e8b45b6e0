import type { FollowHandle, FollowOptions, Transport } from "./transport.ts";

/** A transport that can follow several files on one channel. */
export type MultiFollowTransport = Transport & Required<Pick<Transport, "followMany">>;

interface Listener {
  options: FollowOptions;
  ended: boolean;
}

/**
 * The follow streams of every run of one host on ONE channel: `tail -F` of all their logs at
 * once (see Transport.followMany), restarted when the set of files changes. sshd allows only
 * `MaxSessions` (10 by default) channels per connection, so a channel per run stops at 9 runs
 * per host; this needs one whatever the number of runs.
 *
 * The bytes each run gets are wake-ups: the run then reads its log from its stored offset. A
 * change of the set (a run starting or stopping its follow) is applied after `debounceMs`, so a
 * run that stops and reopens its follow (after a rotation) restarts nothing; bytes written while
 * the channel restarts wake nobody and are read by the next poll.
 */
export class HostFollows {
  private readonly listeners = new Set<Listener>();
  private handle: FollowHandle | null = null;
  /** The files the open channel follows, sorted and joined. */
  private following = "";
  private timer: NodeJS.Timeout | null = null;
  private syncing: Promise<void> = Promise.resolve();

  constructor(
    private readonly transport: MultiFollowTransport,
    private readonly debounceMs = 100,
  ) {}

  /** Adds a run's follow; its handle's stop() removes it again. */
  add(options: FollowOptions): FollowHandle {
    const listener: Listener = { options, ended: false };
    this.listeners.add(listener);
    this.schedule();
    return {
      stop: async () => {
        listener.ended = true;
        if (this.listeners.delete(listener)) this.schedule();
      },
    };
  }

  /** Ends the shared channel and every follow on it (the connection is closing). */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.listeners.clear();
    const handle = this.handle;
    this.handle = null;
    this.following = "";
    await handle?.stop();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.syncing = this.syncing.then(() => this.sync());
    }, this.debounceMs);
    this.timer.unref?.();
  }

  /** Opens a channel for the files wanted now, unless the open one follows exactly those. */
  private async sync(): Promise<void> {
    const paths = [...new Set([...this.listeners].map((l) => l.options.path))].sort();
    const wanted = paths.join("\0");
    if (this.handle && wanted === this.following) return;
    const old = this.handle;
    this.handle = null;
    this.following = "";
    await old?.stop();
    if (paths.length === 0) return;
    try {
      const handle = await this.transport.followMany({
        paths,
        onData: (path, chunk) => {
          for (const listener of this.listeners) {
            if (!listener.ended && listener.options.path === path) listener.options.onData(chunk);
          }
        },
        onEnd: (error) => {
          if (this.handle !== handle) return;
          this.handle = null;
          this.following = "";
          this.endAll(error);
        },
      });
      this.handle = handle;
      this.following = wanted;
    } catch (error) {
      this.endAll(error as Error);
    }
  }

  /** Ends every follow of the host (each reopens by itself, as after any stream's end). */
  private endAll(error?: Error): void {
    for (const listener of [...this.listeners]) {
      this.listeners.delete(listener);
      if (listener.ended) continue;
      listener.ended = true;
      listener.options.onEnd(error);
    }
  }
}
