import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { App, HTTPReceiver, SocketModeReceiver, webApi } from "@slack/bolt";
import type { AlertSink } from "../../alerts/sinks/alert-sink.ts";
import type { BotCore } from "../../bot/core/command-request.ts";
import type { SlackConfig } from "../../config/schema.ts";
import type { BackoffSettings } from "../../core/backoff.ts";
import { type Clock, systemClock } from "../../core/clock.ts";
import { ACTION_PREFIX, type Block } from "./block-kit.ts";
import { boltLogger, type SlackLog, silentLog } from "./bolt-logger.ts";
import { ConnectionKeeper } from "./connection-keeper.ts";
import { SlackAlertSink } from "./slack-alert-sink.ts";
import { SlackInteractions, type SlashCommand } from "./slack-interactions.ts";
import { SlackReplies } from "./slack-replies.ts";
import { resolveSlackSettings, SlackSetupError } from "./slack-settings.ts";
import { UserGroupDirectory } from "./user-groups.ts";
import { classifySlackError } from "./web-api-errors.ts";

/** The path Slack posts to in HTTP mode (the manifest's request URLs end with it). */
export const SLACK_EVENTS_PATH = "/slack/events";

export interface SlackFrontEndOptions {
  config: SlackConfig;
  core: BotCore;
  log?: SlackLog;
  /** Merged into the Web API client that sends replies (tests shorten `retryConfig`). */
  webClientOptions?: Partial<webApi.WebClientOptions>;
  clock?: Clock;
  /** Waits between connection attempts (default 1 s doubling to 60 s, jittered). */
  backoff?: Partial<BackoffSettings> & { random?: () => number };
  /** HTTP mode: listen here instead of `slack.port` (0 picks a free port). */
  listenPort?: number;
  /** Socket Mode: how long to wait for a pong before the link counts as dead (default 5 s). */
  pingTimeoutMs?: number;
  /** Socket Mode: how long to wait for Slack's `hello` after connecting (default 30 s). */
  helloTimeoutMs?: number;
}

/** Slack for `/train`, its buttons and the alert channel. */
export interface SlackFrontEnd {
  /** `slack`, as the daemon names its front ends. */
  readonly name: "slack";
  /**
   * Connects in the background and resolves once connected. While Slack is unreachable it keeps
   * retrying with back-off and never rejects; it rejects only when Slack refuses a token, so a
   * caller that does not wait for it should still attach a `.catch`.
   */
  start(): Promise<void>;
  /** Disconnects and waits for the Socket Mode close handshake (bounded). */
  stop(): Promise<void>;
  /** The alert channel as an outbox sink; works without the Socket Mode link. */
  readonly sink: AlertSink;
  /** Whether the link to Slack is up now. */
  readonly connected: boolean;
  /** HTTP mode: the port being listened on, once started. */
  httpPort(): number | undefined;
}

const PERMANENT_AUTH = new Set([
  "invalid_auth",
  "not_authed",
  "account_inactive",
  "token_revoked",
  "token_expired",
]);

/** An attempt failed at one step; says which token that step used. */
class StepError extends Error {
  constructor(
    readonly step: "auth.test" | "apps.connections.open",
    override readonly cause: unknown,
  ) {
    super(classifySlackError(cause).error);
  }
}

function isPermanent(error: unknown): boolean {
  const cause = error instanceof StepError ? error.cause : error;
  const code = (cause as { data?: { error?: string } }).data?.error;
  return code !== undefined && PERMANENT_AUTH.has(code);
}

function describe(error: unknown): string {
  if (!(error instanceof StepError)) return (error as Error).message ?? String(error);
  const token = error.step === "auth.test" ? "SLACK_BOT_TOKEN" : "SLACK_APP_TOKEN";
  return isPermanent(error)
    ? `${error.step} rejected ${token}: ${error.message}`
    : `${error.step}: ${error.message}`;
}

async function bounded(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.catch(() => {}),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

/**
 * Builds the Slack front end: a Bolt app on Socket Mode (default) or HTTP with signature checks,
 * `/train` routed to the core, Confirm / Cancel presses to `core.press`, and the alert sink.
 * Throws {@link SlackSetupError} at once when a token the mode needs is missing. Nothing here
 * talks to Slack until `start()`, and Slack being down then never throws out of the process.
 */
export function createSlackFrontEnd(options: SlackFrontEndOptions): SlackFrontEnd {
  const settings = resolveSlackSettings(options.config);
  const log = options.log ?? silentLog;
  const logger = boltLogger(log);
  const clock = options.clock ?? systemClock;
  const base = { slackApiUrl: settings.apiUrl, logger, timeout: 15_000 };
  // Replies: a few quick retries (the person is waiting); 429 is waited out by the client.
  const replyClient = new webApi.WebClient(settings.botToken, {
    ...base,
    retryConfig: { retries: 3, factor: 2, minTimeout: 500, maxTimeout: 5000 },
    ...options.webClientOptions,
  });
  // Probes and alerts: one attempt each; the keeper and the outbox own the retrying.
  const once = { ...base, ...options.webClientOptions, retryConfig: { retries: 0 } };
  const probeClient = new webApi.WebClient(settings.botToken, once);
  const sinkClient = new webApi.WebClient(settings.botToken, {
    ...once,
    rejectRateLimitedCalls: true,
  });
  const identity: { botId?: string; botUserId?: string } = {};

  let socketReceiver: SocketModeReceiver | undefined;
  let httpReceiver: HTTPReceiver | undefined;
  let server: Server | undefined;
  if (settings.mode === "socket") {
    socketReceiver = new SocketModeReceiver({
      appToken: settings.appToken as string,
      logger,
      // We reconnect ourselves: the client's own loop turns a failed apps.connections.open
      // during a reconnect into an unhandled rejection.
      autoReconnectEnabled: false,
      clientPingTimeout: options.pingTimeoutMs ?? 5000,
      installerOptions: { clientOptions: { ...once, timeout: 10_000 } },
    });
  } else {
    httpReceiver = new HTTPReceiver({
      signingSecret: settings.signingSecret as string,
      endpoints: SLACK_EVENTS_PATH,
      port: settings.port,
      logger,
      processBeforeResponse: false,
    });
  }
  const app = new App({
    receiver: socketReceiver ?? httpReceiver,
    authorize: async () => ({ botToken: settings.botToken, ...identity }),
    clientOptions: { ...base, retryConfig: { retries: 0 } },
    logger,
    ignoreSelf: false,
    convoStore: false,
  });

  // The person waits on this lookup: the reply client's few quick retries suit it.
  const groups = new UserGroupDirectory(replyClient, settings.operatorGroups, clock, (msg) =>
    log.warn(msg),
  );
  const replies = new SlackReplies(replyClient, log);
  const interactions = new SlackInteractions(options.core, replies, groups, log);

  app.command("/train", async ({ command, ack }) => {
    await ack();
    await interactions.command(command as SlashCommand);
  });
  app.action(new RegExp(`^${ACTION_PREFIX}`), async ({ body, action, ack }) => {
    await ack();
    const press = body as unknown as {
      user: { id: string; username?: string; name?: string };
      channel?: { id: string };
      container?: { channel_id?: string; message_ts?: string; is_ephemeral?: boolean };
      message?: { ts: string; text?: string; blocks?: Block[] };
      response_url?: string;
    };
    const button = action as { value?: string; text?: { text?: string } };
    await interactions.press({
      value: button.value ?? "",
      label: button.text?.text ?? "button",
      userId: press.user.id,
      userName: press.user.username ?? press.user.name ?? press.user.id,
      channelId: press.channel?.id ?? press.container?.channel_id ?? "",
      messageTs: press.message?.ts ?? press.container?.message_ts,
      messageText: press.message?.text,
      messageBlocks: press.message?.blocks,
      responseUrl: press.response_url,
      ephemeral: press.container?.is_ephemeral === true,
    });
  });
  app.error(async (error) => {
    log.error(`Slack listener error: ${(error as Error).message}`);
  });

  const verifyBotToken = async () => {
    try {
      const result = await probeClient.auth.test();
      identity.botId = result.bot_id;
      identity.botUserId = result.user_id;
    } catch (error) {
      throw new StepError("auth.test", error);
    }
  };

  const keeper = new ConnectionKeeper({
    connect: async () => {
      await verifyBotToken();
      if (!socketReceiver) return;
      const client = socketReceiver.client;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          client.start(),
          new Promise((_, reject) => {
            timer = setTimeout(() => {
              void client.disconnect();
              reject(new Error("Slack did not send hello on the Socket Mode link in time"));
            }, options.helloTimeoutMs ?? 30_000);
          }),
        ]);
      } catch (error) {
        const data = (error as { data?: unknown }).data;
        throw data ? new StepError("apps.connections.open", error) : error;
      } finally {
        clearTimeout(timer);
      }
    },
    isPermanent,
    describe,
    backoff: { ...options.backoff, clock },
    log,
  });
  socketReceiver?.client.on("disconnected", () => keeper.lost("Socket Mode link closed"));

  let started = false;
  return {
    name: "slack",
    sink: new SlackAlertSink({ client: sinkClient, channel: settings.alertChannel, clock, log }),
    get connected() {
      return keeper.connected;
    },
    httpPort: () => (server ? (server.address() as AddressInfo).port : undefined),
    async start() {
      if (started) throw new SlackSetupError("the Slack front end was already started");
      started = true;
      if (httpReceiver) {
        const port = options.listenPort ?? settings.port;
        try {
          server = (await httpReceiver.start(port)) as Server;
        } catch (error) {
          throw new SlackSetupError(
            `slack.mode is http but port ${port} cannot be listened on (${(error as Error).message}): set slack.port to a free port`,
          );
        }
        log.info(
          `Slack HTTP mode: listening on port ${(server.address() as AddressInfo).port}${SLACK_EVENTS_PATH}`,
        );
      }
      await keeper.start();
      log.info(`Connected to Slack (${settings.mode} mode)`);
    },
    async stop() {
      await keeper.stop();
      if (socketReceiver) await bounded(socketReceiver.client.disconnect(), 5000);
      if (httpReceiver && server) await bounded(httpReceiver.stop(), 5000);
      server = undefined;
    },
  };
}
