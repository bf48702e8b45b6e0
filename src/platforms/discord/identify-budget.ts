import type { IIdentifyThrottler } from "@discordjs/ws";
import type { APIGatewaySessionStartLimit } from "discord.js";
import { pause } from "../../core/backoff.ts";
import { type Clock, systemClock } from "../../core/clock.ts";
import type { DiscordLog } from "./discord-log.ts";

/** Discord's window for `max_concurrency` identifies. */
export const IDENTIFY_WINDOW_MS = 5000;

/** Reads `session_start_limit` from GET /gateway/bot; `fresh` skips any cache. */
export type SessionStartLimitSource = (fresh: boolean) => Promise<APIGatewaySessionStartLimit>;

/** Options of {@link IdentifyBudget}. */
export interface IdentifyBudgetOptions {
  log: DiscordLog;
  clock?: Clock;
  /** Wait before asking again when GET /gateway/bot fails and no budget is known (default 5 s). */
  retryMs?: number;
}

interface Known {
  total: number;
  remaining: number;
  /** When `remaining` is back to `total` (clock time). */
  resetAt: number;
  maxConcurrency: number;
}

/**
 * Discord's identify budget, kept across reconnects: a bot may start `total` sessions a day
 * (`session_start_limit` of GET /gateway/bot) and `max_concurrency` of them per 5 s; going over
 * gets the token reset. Every IDENTIFY waits here: while `remaining` is 0 it waits for
 * `reset_after` and asks Discord again, and within one concurrency bucket (shard id modulo
 * `max_concurrency`) identifies are at least 5 s apart. RESUMEs do not count and do not wait.
 */
export class IdentifyBudget {
  private known: Known | undefined;
  /** The cached GET /gateway/bot answer is out of date (a reset passed): ask Discord afresh. */
  private stale = false;
  private source: SessionStartLimitSource | undefined;
  private readonly lastIdentify = new Map<number, number>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly clock: Clock;
  private readonly retryMs: number;

  constructor(private readonly options: IdentifyBudgetOptions) {
    this.clock = options.clock ?? systemClock;
    this.retryMs = options.retryMs ?? 5000;
  }

  /** The throttler discord.js asks before each IDENTIFY, reading the budget through `source`. */
  throttler(source: SessionStartLimitSource): IIdentifyThrottler {
    this.source = source;
    return { waitForIdentify: (shardId, signal) => this.waitForIdentify(shardId, signal) };
  }

  /**
   * Resolves when shard `shardId` may identify, counting it against the budget; rejects when
   * `signal` aborts (the connection closed meanwhile), as discord.js expects.
   */
  waitForIdentify(shardId: number, signal: AbortSignal): Promise<void> {
    // One at a time: the budget is shared by every shard of the bot.
    const turn = this.queue.then(() => this.take(shardId, signal));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async take(shardId: number, signal: AbortSignal): Promise<void> {
    for (;;) {
      if (signal.aborted) throw abortError();
      const known = await this.current(signal);
      const now = this.clock.now();
      if (known.remaining <= 0) {
        const waitMs = Math.max(0, known.resetAt - now);
        this.options.log.warn(
          { total: known.total, resetInMs: waitMs },
          `discord: the bot used all ${known.total} session starts Discord allows; identifying again in ${Math.ceil(waitMs / 1000)} s`,
        );
        if (!(await pause(waitMs, signal))) throw abortError();
        // Discord's numbers, not our count, say whether the budget is back.
        this.known = undefined;
        this.stale = true;
        continue;
      }
      const bucket = shardId % Math.max(1, known.maxConcurrency);
      const last = this.lastIdentify.get(bucket);
      if (last !== undefined && now - last < IDENTIFY_WINDOW_MS) {
        if (!(await pause(IDENTIFY_WINDOW_MS - (now - last), signal))) throw abortError();
        continue;
      }
      known.remaining -= 1;
      this.lastIdentify.set(bucket, now);
      return;
    }
  }

  /** The budget, read from Discord when unknown or past its reset. */
  private async current(signal: AbortSignal): Promise<Known> {
    for (;;) {
      const known = this.known;
      if (known && (known.remaining > 0 || this.clock.now() < known.resetAt)) return known;
      try {
        if (!this.source) throw new Error("no GET /gateway/bot to read the budget from");
        const limit = await this.source(this.stale || known !== undefined);
        this.stale = false;
        this.known = {
          total: limit.total,
          remaining: limit.remaining,
          resetAt: this.clock.now() + limit.reset_after,
          maxConcurrency: limit.max_concurrency,
        };
        return this.known;
      } catch (error) {
        // Unknown budget: never identify blind; ask again shortly (the connection may close
        // meanwhile, which aborts this wait).
        this.options.log.warn(
          { err: (error as Error).message },
          "discord: could not read the session start limit (GET /gateway/bot); asking again",
        );
        if (!(await pause(this.retryMs, signal))) throw abortError();
      }
    }
  }
}

function abortError(): Error {
  const error = new Error("the gateway connection closed while waiting to identify");
  error.name = "AbortError";
  return error;
}
