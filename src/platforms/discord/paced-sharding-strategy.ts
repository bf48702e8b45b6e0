import {
  SimpleShardingStrategy,
  type WebSocketManager,
  type WebSocketShard,
  WebSocketShardEvents,
} from "@discordjs/ws";
import { type Backoff, pause } from "../../core/backoff.ts";
import { type DiscordLog, errorDetails } from "./discord-log.ts";

/** Options of {@link PacedShardingStrategy}. */
export interface PacedShardingOptions {
  /** Decides every wait before a reconnect; shared with the front end's login retries. */
  backoff: Backoff;
  log: DiscordLog;
}

interface ShardInternals {
  internalConnect?: () => Promise<void>;
}

/**
 * The shards of the gateway connection, in this process (discord.js's simple strategy), with
 * every reconnect paced by the product's {@link Backoff}.
 *
 * @discordjs/ws reconnects a closed shard after a fixed 500 ms, for ever: with Discord down
 * that is two connection attempts a second per bot, and it reconnects even after the client
 * was destroyed if the destroy came during that pause. Here each attempt after a shard's first
 * waits as the back-off says (on top of the library's 500 ms), a stable connection resets the
 * waits, and `destroy()` cancels a pending attempt for good.
 */
export class PacedShardingStrategy extends SimpleShardingStrategy {
  private stopped = new AbortController();

  constructor(
    manager: WebSocketManager,
    private readonly options: PacedShardingOptions,
  ) {
    super(manager);
  }

  override async spawn(shardIds: number[]): Promise<void> {
    this.stopped = new AbortController();
    await super.spawn(shardIds);
    const shards = (this as unknown as { shards?: Map<number, WebSocketShard> }).shards;
    if (!(shards instanceof Map)) {
      this.options.log.warn({}, "discord: cannot pace gateway reconnects (@discordjs/ws changed)");
      return;
    }
    for (const shard of shards.values()) {
      shard.on(WebSocketShardEvents.Ready, () => this.options.backoff.connected());
      shard.on(WebSocketShardEvents.Resumed, () => this.options.backoff.connected());
      this.pace(shard, this.stopped.signal);
    }
  }

  override async destroy(
    options?: Parameters<SimpleShardingStrategy["destroy"]>[0],
  ): Promise<void> {
    // First: a reconnect waiting for its turn must not start after this.
    this.stopped.abort();
    await super.destroy(options);
  }

  /**
   * Wraps the shard's connect step, which the library calls for the first connection and again
   * after every close: attempts after the first wait for the back-off, and none starts once the
   * strategy was destroyed.
   */
  private pace(shard: WebSocketShard, stopped: AbortSignal): void {
    const internals = shard as unknown as ShardInternals;
    const original = internals.internalConnect;
    if (typeof original !== "function") {
      this.options.log.warn(
        {},
        "discord: cannot pace gateway reconnects (@discordjs/ws internals changed)",
      );
      return;
    }
    const { backoff, log } = this.options;
    let first = true;
    internals.internalConnect = async () => {
      if (stopped.aborted) return;
      if (!first) {
        const delayMs = backoff.nextDelayMs();
        const attempt = backoff.attempts;
        if (attempt === 1 || attempt % 10 === 0) {
          log.warn(
            { attempt, delayMs },
            `discord: gateway connection lost; reconnecting in ${(delayMs / 1000).toFixed(1)} s (attempt ${attempt})`,
          );
        }
        if (!(await pause(delayMs, stopped))) return;
      }
      first = false;
      try {
        await original.call(shard);
      } catch (error) {
        // The library calls this without awaiting it: an error here would end the process.
        log.warn(errorDetails(error), "discord: a gateway connection attempt failed");
      }
    };
  }
}
