import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { FakeGateway, type GatewayStats } from "./gateway.ts";
import { handleInteractionRoute, type InteractionState } from "./interaction-routes.ts";
import {
  type ButtonInput,
  buttonInteraction,
  type InteractionPlace,
  type SlashCommandInput,
  slashCommandInteraction,
} from "./interactions.ts";
import {
  channelObject,
  type FakeUser,
  type StoredAttachment,
  type StoredMessage,
  snowflake,
  userObject,
} from "./payloads.ts";
import { type Failure, failureReply, type Reply, unknown } from "./replies.ts";
import { type ParsedBody, parseBody, type ReceivedFile } from "./request-body.ts";
import { createChannelMessage, overwriteCommands } from "./rest-routes.ts";
import { SessionLimit, type SessionLimitOptions } from "./session-limit.ts";

export type { FakeUser, StoredMessage } from "./payloads.ts";
export type { Failure, Reply } from "./replies.ts";
export type { ReceivedFile } from "./request-body.ts";

/** One request as the fake saw it, with the status it answered. */
export interface ReceivedRequest {
  method: string;
  /** Decoded path under /api/v10, e.g. `/webhooks/1/tok/messages/@original`. */
  path: string;
  /** The path exactly as it arrived (percent-encoding kept). */
  rawPath: string;
  query: URLSearchParams;
  authorization: string | undefined;
  body: Record<string, unknown> | undefined;
  files: ReceivedFile[];
  contentType: string;
  status: number;
}

export interface FakeDiscordOptions {
  token?: string;
  applicationId?: string;
  guildId?: string;
  channelIds?: string[];
  roleIds?: string[];
  heartbeatIntervalMs?: number;
  /** Discord's 3-second window for the first interaction response. */
  ackDeadlineMs?: number;
  /** The session start budget (default 1000 a day, 999 left, 1 identify per 5 s). */
  sessionLimit?: SessionLimitOptions;
}

/** Matches the request that answers interaction `id` (its callback, `POST /interactions/<id>/…`). */
export const interactionCallback =
  (id: string) =>
  (r: ReceivedRequest): boolean =>
    r.method === "POST" && r.path.startsWith(`/interactions/${id}/`);

/**
 * A small, protocol-faithful Discord: REST under `apiUrl` and a WebSocket gateway on the same
 * port, with controls to send interactions, drop the gateway and fail requests.
 */
export class FakeDiscord {
  readonly token: string;
  readonly applicationId: string;
  readonly guildId: string;
  readonly channelIds: string[];
  readonly bot: FakeUser;
  readonly received: ReceivedRequest[] = [];
  /** Channel messages by id, after nonce de-duplication: what people would see. */
  readonly channelMessages: StoredMessage[] = [];
  /** Commands registered by bulk overwrite, keyed `global` or the guild id. */
  readonly commands = new Map<string, Record<string, unknown>[]>();
  readonly interactions = new Map<string, InteractionState>();
  private readonly events = new EventEmitter();
  private readonly failures: { remaining: number; failure: Failure; match?: RegExp }[] = [];
  private readonly server: Server;
  private readonly gateway: FakeGateway;
  private port = 0;
  /** While true, Discord is unreachable: every connection is cut as it arrives. */
  private unreachable = false;
  /** Requests cut while unreachable: "METHOD /path" and when (ms since the epoch). */
  readonly refused: { target: string; at: number }[] = [];

  /**
   * When each login tried while unreachable began (ms since the epoch): a login starts with
   * `GET /gateway/bot`, and one less than 100 ms after the previous belongs to the same login.
   */
  refusedLogins(): number[] {
    const starts: number[] = [];
    let last = Number.NEGATIVE_INFINITY;
    for (const { target, at } of this.refused) {
      if (target !== "GET /gateway/bot") continue;
      if (at - last >= 100) starts.push(at);
      last = at;
    }
    return starts;
  }
  /** The session start budget GET /gateway/bot reports and IDENTIFY spends. */
  readonly sessionLimit: SessionLimit;

  private constructor(options: FakeDiscordOptions) {
    this.token = options.token ?? "fake-bot-token.abc.def";
    this.applicationId = options.applicationId ?? "123456789012345678";
    this.guildId = options.guildId ?? "234567890123456789";
    this.channelIds = options.channelIds ?? ["345678901234567890", "345678901234567891"];
    this.bot = { id: this.applicationId, username: "trainops", bot: true };
    this.ackDeadlineMs = options.ackDeadlineMs ?? 3000;
    this.events.setMaxListeners(100);
    this.sessionLimit = new SessionLimit(
      options.sessionLimit ?? {
        total: 1000,
        remaining: 999,
        resetAfterMs: 24 * 3600_000,
        maxConcurrency: 1,
      },
    );
    this.server = createServer((req, res) => {
      if (this.unreachable) {
        const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
        this.refused.push({
          target: `${req.method} ${path.replace(/^\/api(\/v\d+)?/, "")}`,
          at: Date.now(),
        });
        req.socket.destroy();
        return;
      }
      this.onRequest(req, res).catch((error: Error) => {
        if (!res.headersSent) this.send(res, { status: 500, json: { message: error.message } });
      });
    });
    this.gateway = new FakeGateway({
      token: this.token,
      applicationId: this.applicationId,
      guildId: this.guildId,
      channelIds: this.channelIds,
      roleIds: options.roleIds ?? ["567890123456789012"],
      bot: this.bot,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
      url: () => `ws://127.0.0.1:${this.port}/gateway`,
      sessionLimit: this.sessionLimit,
    });
    this.server.on("upgrade", (req, socket, head) => {
      if (this.unreachable) this.gateway.refuse(socket);
      else this.gateway.handleUpgrade(req, socket, head);
    });
  }

  readonly ackDeadlineMs: number;

  /** Starts the fake on a random loopback port. */
  static async start(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
    const fake = new FakeDiscord(options);
    await new Promise<void>((resolve) => fake.server.listen(0, "127.0.0.1", resolve));
    fake.port = (fake.server.address() as AddressInfo).port;
    return fake;
  }

  /** The REST base to hand the client (`rest.api`, config `discord.apiUrl`). */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  get gatewayStats(): GatewayStats {
    return this.gateway.stats;
  }

  get gatewayConnected(): boolean {
    return this.gateway.connected;
  }

  private get place(): InteractionPlace {
    return {
      applicationId: this.applicationId,
      guildId: this.guildId,
      channelId: this.channelIds[0]!,
    };
  }

  /** Dispatches INTERACTION_CREATE for `/train <subcommand>` (or autocomplete). */
  slashCommand(input: SlashCommandInput): InteractionState {
    return this.sendInteraction(slashCommandInteraction(this.place, input));
  }

  /** Dispatches INTERACTION_CREATE for a button press on `message`. */
  pressButton(input: ButtonInput): InteractionState {
    return this.sendInteraction(buttonInteraction(this.place, input));
  }

  /** Dispatches any INTERACTION_CREATE payload, malformed ones included. */
  sendInteraction(payload: Record<string, unknown>): InteractionState {
    const state: InteractionState = {
      id: String(payload.id ?? snowflake()),
      token: String(payload.token ?? ""),
      payload,
      createdAt: Date.now(),
      callbackType: null,
      original: null,
      followUps: [],
    };
    this.interactions.set(state.id, state);
    this.gateway.dispatch("INTERACTION_CREATE", payload);
    return state;
  }

  /** Sends any dispatch (tests of malformed events). */
  dispatch(t: string, d: unknown): void {
    this.gateway.dispatch(t, d);
  }

  /**
   * Cuts the gateway connection as a network failure would; the client should RESUME. With
   * `forgetSession` the RESUME is refused (INVALID_SESSION) and the client must IDENTIFY again.
   */
  dropGateway(options: { forgetSession?: boolean } = {}): void {
    this.gateway.drop(options.forgetSession ?? false);
  }

  /**
   * Discord becomes unreachable (`true`: live gateway connections are cut, and every REST request
   * and gateway connection after is cut as it arrives, recorded in `refused` and
   * `gatewayStats.attempts`) or reachable again (`false`).
   */
  setUnreachable(unreachable: boolean): void {
    this.unreachable = unreachable;
    if (unreachable) this.gateway.drop();
  }

  /** The next `count` requests (matching `match` against "METHOD /path") fail as `failure` says. */
  failNext(count: number, failure: Failure, match?: RegExp): void {
    this.failures.push({ remaining: count, failure, ...(match ? { match } : {}) });
  }

  /** Resolves with the first request (already received or future) that satisfies `test`. */
  waitFor(test: (r: ReceivedRequest) => boolean, timeoutMs = 10_000): Promise<ReceivedRequest> {
    const found = this.received.find(test);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.events.off("request", listener);
        reject(new Error(`fake discord: no matching request within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (r: ReceivedRequest): void => {
        if (!test(r)) return;
        clearTimeout(timer);
        this.events.off("request", listener);
        resolve(r);
      };
      this.events.on("request", listener);
    });
  }

  /** Requests that concern one interaction: its callback and its webhook follow-ups/edits. */
  requestsFor(interaction: InteractionState): ReceivedRequest[] {
    return this.received.filter(
      (r) =>
        r.path.startsWith(`/interactions/${interaction.id}/`) ||
        r.path.startsWith(`/webhooks/${this.applicationId}/${interaction.token}`),
    );
  }

  async close(): Promise<void> {
    this.gateway.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Stores a message from a create body; shared by channel and webhook routes. */
  storeMessage(channelId: string, body: Record<string, unknown>, files: ReceivedFile[]) {
    const described = (body.attachments ?? []) as { id?: unknown; description?: string }[];
    const attachments: StoredAttachment[] = files.map((file, i) => ({
      id: snowflake(),
      filename: file.filename,
      size: file.data.length,
      content_type: file.contentType,
      ...(described[i]?.description ? { description: described[i]!.description } : {}),
      url: `${this.apiUrl}/attachments/${file.filename}`,
      proxy_url: `${this.apiUrl}/attachments/${file.filename}`,
    }));
    const message: StoredMessage = {
      id: snowflake(),
      channel_id: channelId,
      content: typeof body.content === "string" ? body.content : "",
      embeds: (body.embeds as unknown[]) ?? [],
      components: (body.components as unknown[]) ?? [],
      attachments,
      flags: typeof body.flags === "number" ? body.flags : 0,
      allowed_mentions: body.allowed_mentions,
      author: this.bot,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      ...(body.nonce !== undefined ? { nonce: body.nonce as string } : {}),
    };
    return message;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const rawPath = url.pathname.replace(/^\/api(\/v\d+)?/, "");
    const path = rawPath.split("/").map(decodeURIComponent).join("/");
    const parsed: ParsedBody = await parseBody(req);
    const record: ReceivedRequest = {
      method: req.method ?? "GET",
      path,
      rawPath,
      query: url.searchParams,
      authorization: req.headers.authorization,
      body: parsed.json as Record<string, unknown> | undefined,
      files: parsed.files,
      contentType: parsed.contentType,
      status: 0,
    };
    const failure = this.takeFailure(`${record.method} ${path}`);
    let reply: Reply;
    if (failure !== undefined && !(typeof failure === "object" && "afterProcessing" in failure)) {
      reply = failureReply(failure);
    } else {
      reply = this.route(record);
      if (failure !== undefined) reply = failureReply(failure.status);
    }
    record.status = reply.status;
    this.received.push(record);
    this.send(res, reply);
    this.events.emit("request", record);
  }

  private takeFailure(target: string): Failure | undefined {
    const entry = this.failures.find((f) => f.remaining > 0 && (!f.match || f.match.test(target)));
    if (!entry) return undefined;
    entry.remaining -= 1;
    return entry.failure;
  }

  private route(r: ReceivedRequest): Reply {
    const authed = r.authorization === `Bot ${this.token}`;
    const parts = r.path.split("/").filter(Boolean);
    const needsAuth = !["interactions", "webhooks"].includes(parts[0] ?? "");
    if (needsAuth && !authed)
      return { status: 401, json: { message: "401: Unauthorized", code: 0 } };
    const key = `${r.method} /${parts.map((p) => (/^\d+$/.test(p) ? ":id" : p)).join("/")}`;
    switch (key) {
      case "GET /gateway/bot":
        return {
          status: 200,
          json: {
            url: `ws://127.0.0.1:${this.port}/gateway`,
            shards: 1,
            session_start_limit: this.sessionLimit.report(),
          },
        };
      case "GET /users/@me":
        return { status: 200, json: { ...userObject(this.bot), bot: true } };
      case "PUT /applications/:id/commands":
      case "PUT /applications/:id/guilds/:id/commands":
        return overwriteCommands(this, parts[1]!, parts.length === 5 ? parts[3]! : "global", r);
      case "GET /channels/:id": {
        const id = parts[1]!;
        if (!this.channelIds.includes(id)) return unknown(10003, "Unknown Channel");
        return { status: 200, json: channelObject(id, this.guildId) };
      }
      case "POST /channels/:id/messages":
        return createChannelMessage(this, parts[1]!, r);
      default:
        return handleInteractionRoute(this, parts, r) ?? unknown(0, "404: Not Found");
    }
  }

  private send(res: ServerResponse, reply: Reply): void {
    const headers: Record<string, string> = { ...(reply.headers ?? {}) };
    if (reply.json !== undefined) headers["content-type"] = "application/json";
    res.writeHead(reply.status, headers);
    res.end(reply.json === undefined ? undefined : JSON.stringify(reply.json));
  }
}
