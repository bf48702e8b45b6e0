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
import { type Clock, systemClock } from "../../core/clock.ts";
import { hasCode } from "../../core/errors.ts";
import type { Message } from "../../message/message.ts";
import { type RegistrationResult, registerTrainCommand } from "./command-registration.ts";
import { DiscordAlertSink } from "./discord-alert-sink.ts";
import { DiscordSetupError, isTokenRejection, TOKEN_FIX, tokenRejected } from "./discord-errors.ts";
import { type DiscordLog, errorDetails, silentLog } from "./discord-log.ts";
import { channelMessageBody } from "./discord-payload.ts";
import { GatewayGuard } from "./gateway-guard.ts";
import { InteractionRouter } from "./interaction-router.ts";
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
  /** How long to wait for the gateway's READY and guilds. Default 30 s. */
  readyTimeoutMs?: number;
  /**
   * Rate-limit waits longer than this are not slept through: the request fails and the alert
   * outbox retries later. Default 10 s.
   */
  maxRateLimitWaitMs?: number;
}

export interface DiscordFrontEnd {
  /** Connects, waits until ready, registers `/train`; fails with the setting to fix. */
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
  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    // Nothing the bot sends may ping anyone unless a message names them.
    allowedMentions: { parse: [] },
    ...options.clientOptions,
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
  let stopped = false;

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

  async function start(): Promise<void> {
    if (!token) {
      throw new DiscordSetupError(`discord.token is empty: ${TOKEN_FIX}`);
    }
    const abort = new AbortController();
    const timeoutMs = options.readyTimeoutMs ?? 30_000;
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new DiscordSetupError(
              `Discord did not finish connecting within ${timeoutMs / 1000} s (gateway from ${config.apiUrl}/v10/gateway/bot); check discord.apiUrl and the network`,
            ),
          ),
        timeoutMs,
      );
      abort.signal.addEventListener("abort", () => clearTimeout(timer));
      client.once(Events.ClientReady, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    try {
      await client.login(token);
      await ready;
    } catch (error) {
      abort.abort();
      await client.destroy().catch(() => {});
      if (isTokenRejection(error)) throw tokenRejected(config.apiUrl);
      if (error instanceof DiscordSetupError) throw error;
      throw new DiscordSetupError(
        `Could not connect to Discord at ${config.apiUrl}: ${(error as Error).message}; check discord.apiUrl and the network`,
      );
    }
    abort.abort();
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
    if (stopped) return;
    stopped = true;
    await client.destroy();
  }

  return { start, stop, sink, register, client };
}
