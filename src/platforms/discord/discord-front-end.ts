import {
  Client,
  type ClientOptions,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  Routes,
} from "discord.js";
import type { AlertSink } from "../../alerts/sinks/alert-sink.ts";
import type { BotCore } from "../../bot/core/command-request.ts";
import type { DiscordConfig } from "../../config/schema.ts";
import { Backoff, type BackoffSettings, pause } from "../../core/backoff.ts";
import { type Clock, systemClock } from "../../core/clock.ts";
import { hasCode } from "../../core/errors.ts";
import type { Message } from "../../message/message.ts";
import { type RegistrationResult, registerTrainCommand } from "./command-registration.ts";
import { DiscordAlertSink } from "./discord-alert-sink.ts";
import {
  DiscordSetupError,
  isGatewayRefusal,
  isTokenRejection,
  sessionsResetInMs,
  TOKEN_FIX,
  tokenRejected,
} from "./discord-errors.ts";
import { type DiscordLog, errorDetails, silentLog } from "./discord-log.ts";
import { channelMessageBody } from "./discord-payload.ts";
import { GatewayGuard } from "./gateway-guard.ts";
import { IdentifyBudget } from "./identify-budget.ts";
import { InteractionRouter } from "./interaction-router.ts";
import { PacedShardingStrategy } from "./paced-sharding-strategy.ts";
import { renderMessage } from "./render-message.ts";

export interface DiscordFrontEndOptions {
  config: DiscordConfig;
  core: BotCore;
  log?: DiscordLog;
  clock?: Clock;
  /** Merged over the defaults (tests shorten timeouts; `rest` is merged one level deep). */
  clientOptions?: Partial<ClientOptions>;
  /** Defer an interaction when the core has not answered within this time. Default 2000 ms. */
  deferAfterMs?: number;
  /** Register `/train` when starting. Default true. */
  registerOnStart?: boolean;
  /**
   * After this long without the gateway's READY and guilds, say so in the log (connecting goes
   * on, with back-off). Default 30 s.
   */
  readyTimeoutMs?: number;
  /** Waits between connection attempts (login and gateway reconnects); default 1 s to 60 s. */
  backoff?: Partial<BackoffSettings> & { random?: () => number };
  /**
   * Rate-limit waits longer than this are not slept through: the request fails and the alert
   * outbox retries later. Default 10 s.
   */
  maxRateLimitWaitMs?: number;
}

export interface DiscordFrontEnd {
  /**
   * Connects, waits until ready, registers `/train`. While Discord is unreachable it keeps trying
   * with back-off and does not settle; it rejects, naming the setting to fix, only when Discord
   * refuses the token or the bot's settings. After `stop()` it never settles.
   */
  start(): Promise<void>;
  /** Disconnects; safe to call more than once. */
  stop(): Promise<void>;
  /** Posts alerts to `discord.alertChannel`. */
  readonly sink: AlertSink;
  /** (Re-)registers `/train`; guild-scoped when `discord.guildId` is set. */
  register(): Promise<RegistrationResult>;
  /** The discord.js client, for diagnostics. */
  readonly client: Client;
}

/**
 * The Discord front end: a discord.js client (gateway for interactions, REST for replies and
 * alerts) pointed at `discord.apiUrl`, translating between Discord and the platform-neutral core.
 */
export function createDiscordFrontEnd(options: DiscordFrontEndOptions): DiscordFrontEnd {
  const { config, core } = options;
  const log = options.log ?? silentLog;
  const clock = options.clock ?? systemClock;
  // discord.js adds the "Bot " prefix itself; a token pasted with it would be sent twice.
  const token = (config.token ?? "").trim().replace(/^(Bot|Bearer)\s+/i, "");
  const maxWait = options.maxRateLimitWaitMs ?? 10_000;
  // One back-off for every way of (re)connecting: login attempts and gateway reconnects.
  const backoff = new Backoff({ ...options.backoff, clock });
  const budget = new IdentifyBudget({ log, clock });
  let strategy: PacedShardingStrategy | undefined;
  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    // Nothing the bot sends may ping anyone unless a message names them.
    allowedMentions: { parse: [] },
    ...options.clientOptions,
    ws: {
      ...options.clientOptions?.ws,
      buildStrategy: (manager) => {
        strategy = new PacedShardingStrategy(manager, { backoff, log });
        return strategy;
      },
      buildIdentifyThrottler: (manager) =>
        budget.throttler(async (fresh) => {
          const info = await manager.fetchGatewayInformation(fresh);
          return info.session_start_limit;
        }),
    },
    rest: {
      api: config.apiUrl,
      // 5xx are retried twice at once; longer outages are the alert outbox's to retry.
      retries: 2,
      // Discord answers slowly at times while still posting; alerts carry a nonce, so a retry
      // after a timeout does not repeat them, but a longer wait avoids the retry at all.
      timeout: 60_000,
      rejectOnRateLimit: (info) => info.retryAfter > maxWait,
      ...options.clientOptions?.rest,
    },
  });
  // REST works without the gateway: alerts can be posted before and between connections.
  if (token) client.rest.setToken(token);

  const guard = new GatewayGuard(client, log);
  guard.install();

  const postToChannel = async (channelId: string, message: Message): Promise<void> => {
    const { body, files } = channelMessageBody(renderMessage(message));
    await client.rest.post(Routes.channelMessages(channelId), { body, files });
  };
  const router = new InteractionRouter({
    core,
    log,
    clock,
    deferAfterMs: options.deferAfterMs ?? 2000,
    takeRoles: (id) => guard.takeRoles(id),
    postToChannel,
  });
  client.on(Events.InteractionCreate, (interaction) => {
    void router.handle(interaction);
  });
  // Without an `error` listener an emitted error would throw and end the process.
  client.on(Events.Error, (error) => log.error(errorDetails(error), "discord: client error"));
  client.on(Events.ShardError, (error) => log.warn(errorDetails(error), "discord: gateway error"));
  client.on(Events.ShardReconnecting, () => log.info({}, "discord: gateway reconnecting"));
  client.on(Events.ShardResume, (_id, replayed) =>
    log.info({ replayed }, "discord: gateway resumed"),
  );
  client.on(Events.ShardDisconnect, (event) =>
    log.error(
      { code: event.code },
      event.code === 4004
        ? `discord: the gateway rejected the token (4004); ${TOKEN_FIX}`
        : `discord: the gateway closed for good (code ${event.code}); restart trainops`,
    ),
  );

  const sink = new DiscordAlertSink({ rest: client.rest, channelId: config.alertChannel });
  const register = (): Promise<RegistrationResult> =>
    registerTrainCommand(
      client.rest,
      { applicationId: config.applicationId, guildId: config.guildId, apiUrl: config.apiUrl },
      core.subcommands,
    );

  async function checkAlertChannel(): Promise<void> {
    if (!config.alertChannel) {
      log.warn({}, "discord: discord.alertChannel is not set; alerts will not go to Discord");
      return;
    }
    try {
      await client.rest.get(Routes.channel(config.alertChannel));
    } catch (error) {
      const status = error instanceof DiscordAPIError ? error.status : undefined;
      log.error(
        { ...errorDetails(error), channel: config.alertChannel },
        status === 404 || status === 403
          ? `discord: the bot cannot see alert channel ${config.alertChannel}; check discord.alertChannel and that the bot was invited to its server`
          : "discord: could not check the alert channel",
      );
    }
  }

  const stopping = new AbortController();
  const never = new Promise<never>(() => {});

  /** Waits for the gateway's first READY and guilds, logging (not failing) when it is slow. */
  function whenReady(): Promise<void> {
    const timeoutMs = options.readyTimeoutMs ?? 30_000;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(
        () =>
          log.warn(
            { timeoutMs },
            `discord: not connected after ${timeoutMs / 1000} s (gateway from ${config.apiUrl}/v10/gateway/bot); still trying, check discord.apiUrl and the network`,
          ),
        timeoutMs,
      );
      timer.unref?.();
      client.once(Events.ClientReady, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Logs in, retrying with back-off while Discord is unreachable or answers 5xx; throws only
   * what no retry fixes. discord.js resolves a login at the gateway's READY; its gateway
   * reconnects in between are paced by the same back-off (see PacedShardingStrategy).
   */
  async function logIn(): Promise<void> {
    for (;;) {
      try {
        await client.login(token);
        return;
      } catch (error) {
        if (stopping.signal.aborted) return never;
        if (isTokenRejection(error) || isGatewayRefusal(error)) {
          throw isTokenRejection(error) || (error as Error).message === "Authentication failed"
            ? tokenRejected(config.apiUrl)
            : new DiscordSetupError(
                `Discord refused the bot's gateway connection (${(error as Error).message}); check the bot's settings in the Developer Portal (intents) and start again`,
              );
        }
        // A failed login destroys the client and clears its token: REST (alerts) needs it back,
        // and shards of the failed attempt must not go on reconnecting on their own.
        client.rest.setToken(token);
        await strategy?.destroy();
        const delayMs = Math.max(backoff.nextDelayMs(), sessionsResetInMs(error, clock.now()));
        const attempt = backoff.attempts;
        if (attempt === 1 || attempt % 10 === 0) {
          log.warn(
            { ...errorDetails(error), attempt, delayMs },
            `discord: cannot connect to ${config.apiUrl} (${(error as Error).message}); trying again in ${(delayMs / 1000).toFixed(1)} s (attempt ${attempt})`,
          );
        }
        if (!(await pause(delayMs, stopping.signal))) return never;
      }
    }
  }

  async function start(): Promise<void> {
    if (!token) {
      throw new DiscordSetupError(`discord.token is empty: ${TOKEN_FIX}`);
    }
    const ready = whenReady();
    await logIn();
    await ready;
    log.info({ user: client.user?.tag }, "discord: connected");
    if (options.registerOnStart ?? true) {
      try {
        const result = await register();
        log.info(
          { scope: result.scope, guild: result.guildId, subcommands: result.subcommands },
          "discord: /train registered",
        );
      } catch (error) {
        if (hasCode(error, "token_rejected")) throw error;
        // Alerts still work without the slash command; say what to fix and keep going.
        log.error(errorDetails(error), "discord: could not register /train");
      }
    }
    await checkAlertChannel();
  }

  async function stop(): Promise<void> {
    if (stopping.signal.aborted) return;
    stopping.abort();
    await client.destroy();
    // discord.js skips destroying its gateway after a failed login: cancel any reconnect here.
    // Not at the same time as the client's own destroy: two closes of one shard wait for ever.
    await strategy?.destroy();
  }

  return { start, stop, sink, register, client };
}
