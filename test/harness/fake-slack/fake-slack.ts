import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { freePort } from "../free-port.ts";
import { parseArgs, readBody, send } from "./http-bodies.ts";
import {
  type ButtonPressInput,
  blockActionsPayload,
  type SlashCommandInput,
  slackSignature,
  slashCommandPayload,
} from "./payloads.ts";
import { SocketLink } from "./socket-link.ts";
import {
  callMethod,
  checkResponseBody,
  type EphemeralMessage,
  type PostedMessage,
  type UploadedFile,
  type WebApiState,
} from "./web-api-methods.ts";

/** How the next calls of a method fail. */
export interface Failure {
  /** Answer with this HTTP status (500, 503…). */
  status?: number;
  /** Answer 429 with this `Retry-After` (seconds). */
  retryAfter?: number;
  /** Answer 200 `{ ok: false, error }` (invalid_auth, channel_not_found…). */
  error?: string;
  /** Close the connection without an answer (a network failure). */
  drop?: boolean;
  /** Let this many calls through before the failures start. */
  after?: number;
}

/** Every request the fake saw: Web API methods, `upload`, `response_url`. */
export interface ReceivedCall {
  method: string;
  args: Record<string, unknown>;
  token?: string;
  /** The failure injected for this call, if any. */
  failed?: Failure;
}

/** A `response_url` post. */
export interface ResponsePost {
  id: string;
  body: Record<string, unknown>;
}

/** An envelope sent over Socket Mode (or a signed HTTP request) and how the app acked it. */
export interface Delivery {
  envelopeId: string;
  responseUrl: string;
  /** Resolves with the ack payload (Socket Mode) or HTTP status and body (HTTP mode). */
  acked: Promise<{ payload: unknown; status?: number }>;
}

/** Where an event goes: the Socket Mode link (default) or the app's HTTP endpoint. */
export interface HttpTarget {
  url: string;
  signingSecret: string;
  /** Override the timestamp (seconds) to send a stale request. */
  timestampSec?: number;
  /** Send this signature instead of the right one. */
  signature?: string;
}

export interface FakeSlackOptions {
  botToken?: string;
  appToken?: string;
  /** Listen on this port (restart on the same port after `down()`). */
  port?: number;
  /** User-group id → member user ids. */
  userGroups?: Record<string, string[]>;
  /** Do not listen yet: Slack is down until `up()`. */
  startDown?: boolean;
}

/**
 * A local, protocol-faithful Slack: Web API under `apiUrl`, Socket Mode WebSocket behind
 * `apps.connections.open`, file uploads, `response_url`s, failure injection and a log.
 */
export class FakeSlack {
  readonly botToken: string;
  readonly appToken: string;
  readonly received: ReceivedCall[] = [];
  readonly messages: PostedMessage[] = [];
  readonly ephemerals: EphemeralMessage[] = [];
  readonly responses: ResponsePost[] = [];
  readonly files = new Map<string, UploadedFile>();
  /** The Socket Mode side: close codes, `silentOnce`, connections opened. */
  readonly link = new SocketLink();
  port: number;
  private server: Server | undefined;
  private readonly tcp = new Set<Socket>();
  private readonly failures = new Map<string, { left: number; failure: Failure }>();
  private readonly state: WebApiState;
  private counter = 0;

  private constructor(options: FakeSlackOptions) {
    this.botToken = options.botToken ?? "xoxb-fake-bot-token";
    this.appToken = options.appToken ?? "xapp-fake-app-token";
    this.port = options.port ?? 0;
    this.state = {
      botToken: this.botToken,
      appToken: this.appToken,
      baseUrl: () => this.apiUrl,
      userGroups: options.userGroups ?? {},
      messages: this.messages,
      ephemerals: this.ephemerals,
      files: this.files,
      issueTicket: () => this.link.issueTicket(),
      nextTs: () => `${1_767_225_600 + this.counter}.${String(++this.counter).padStart(6, "0")}`,
      nextId: (prefix) => `${prefix}0${String(++this.counter).padStart(9, "0")}`,
    };
  }

  /** Starts a fake (listening unless `startDown`); `port` 0 picks a free one. */
  static async start(options: FakeSlackOptions = {}): Promise<FakeSlack> {
    const fake = new FakeSlack(options);
    if (options.startDown) {
      if (!fake.port) fake.port = await freePort();
    } else {
      await fake.up();
    }
    return fake;
  }

  /** The base URL to give the app as `slack.apiUrl`. */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  /** Makes the next `count` calls of `method` fail (`upload`, `response_url` work too). */
  failNext(method: string, count: number, failure: Failure): void {
    this.failures.set(method, { left: count, failure });
  }

  /** Calls of one method, in order. */
  calls(method: string): ReceivedCall[] {
    return this.received.filter((call) => call.method === method);
  }

  /** Number of open Socket Mode connections. */
  get openConnections(): number {
    return this.link.open;
  }

  /** Socket Mode connections opened so far (reconnects count). */
  get connectionsOpened(): number {
    return this.link.opened;
  }

  /** Starts listening (again, on the same port). */
  async up(): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) => void this.onRequest(req, res));
    server.on("connection", (socket) => {
      this.tcp.add(socket);
      socket.on("close", () => this.tcp.delete(socket));
    });
    server.on("upgrade", (req, socket, head) => this.link.upgrade(req, socket as Socket, head));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Slack goes away: every connection is cut and nothing listens until `up()`. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.link.terminateAll();
    for (const socket of this.tcp) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Stops the fake for good. */
  async stop(): Promise<void> {
    await this.down();
    this.link.close();
  }

  /** Asks every Socket Mode client to reconnect, as Slack does when it recycles a server. */
  requestReconnect(reason = "refresh_requested"): void {
    this.link.requestReconnect(reason);
  }

  /** A person runs a slash command; goes over Socket Mode unless `via` names the HTTP endpoint. */
  sendSlashCommand(input: SlashCommandInput, via?: HttpTarget): Promise<Delivery> {
    const responseId = randomUUID();
    const payload = slashCommandPayload(input, this.responseUrl(responseId));
    if (via)
      return this.postSigned(
        via,
        new URLSearchParams(payload).toString(),
        payload.response_url as string,
      );
    return this.sendEnvelope("slash_commands", payload, payload.response_url as string, true);
  }

  /** A person presses a button of a bot message. */
  pressButton(input: ButtonPressInput, via?: HttpTarget): Promise<Delivery> {
    const payload = blockActionsPayload(input, this.responseUrl(randomUUID()));
    const responseUrl = payload.response_url as string;
    if (via) {
      const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
      return this.postSigned(via, body, responseUrl);
    }
    return this.sendEnvelope("interactive", payload, responseUrl, false);
  }

  /** Waits until `check` holds (polling), or fails after `timeoutMs`. */
  async waitFor<T>(
    check: () => T | undefined | false,
    timeoutMs = 10_000,
    what = "condition",
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`fake Slack: timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private responseUrl(id: string): string {
    return `http://127.0.0.1:${this.port}/response/${id}`;
  }

  private async sendEnvelope(
    type: string,
    payload: unknown,
    responseUrl: string,
    acceptsResponsePayload: boolean,
  ): Promise<Delivery> {
    const socket = await this.waitFor(() => this.link.newest(), 10_000, "a Socket Mode connection");
    const { envelopeId, acked } = this.link.send(socket, type, payload, acceptsResponsePayload);
    return { envelopeId, responseUrl, acked };
  }

  private async postSigned(via: HttpTarget, body: string, responseUrl: string): Promise<Delivery> {
    const timestampSec = via.timestampSec ?? Math.floor(Date.now() / 1000);
    const acked = fetch(via.url, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": String(timestampSec),
        "x-slack-signature": via.signature ?? slackSignature(via.signingSecret, timestampSec, body),
      },
      body,
    }).then(async (res) => ({ status: res.status, payload: await res.text() }));
    return { envelopeId: randomUUID(), responseUrl, acked };
  }

  private takeFailure(method: string): Failure | undefined {
    const entry = this.failures.get(method);
    if (!entry) return undefined;
    if (entry.failure.after) {
      entry.failure = { ...entry.failure, after: entry.failure.after - 1 };
      return undefined;
    }
    entry.left -= 1;
    if (entry.left <= 0) this.failures.delete(method);
    return entry.failure;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const raw = await readBody(req);
    const [, area, name = ""] = url.pathname.split("/");
    const method = area === "api" ? name : area === "upload" ? "upload" : "response_url";
    const args = await parseArgs(req, raw, url);
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const token = bearer ?? (typeof args.token === "string" ? args.token : undefined);
    const failed = this.takeFailure(method);
    this.received.push({ method, args, token, ...(failed ? { failed } : {}) });
    if (failed?.drop) {
      req.socket.destroy();
      return;
    }
    if (failed?.retryAfter !== undefined) {
      return send(
        res,
        429,
        { ok: false, error: "ratelimited" },
        { "retry-after": String(failed.retryAfter) },
      );
    }
    if (failed?.status) return send(res, failed.status, { ok: false, error: "fatal_error" });
    if (failed?.error) return send(res, 200, { ok: false, error: failed.error });
    if (area === "api") return send(res, 200, callMethod(this.state, name, args, token));
    if (area === "upload") return this.onUpload(name, args, raw, res);
    if (area === "response") {
      const problem = checkResponseBody(args);
      if (problem) return send(res, 400, problem);
      this.responses.push({ id: name, body: args });
      return send(res, 200, { ok: true });
    }
    send(res, 404, { ok: false, error: "not_found" });
  }

  private onUpload(
    id: string,
    args: Record<string, unknown>,
    raw: Buffer,
    res: ServerResponse,
  ): void {
    const file = this.files.get(id);
    if (!file) {
      send(res, 404, { ok: false, error: "file_not_found" });
      return;
    }
    const part = Object.values(args).find((value) => Buffer.isBuffer(value));
    file.bytes = (part as Buffer | undefined) ?? raw;
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(`OK - ${file.bytes.length}`);
  }
}
