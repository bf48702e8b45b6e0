import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A PagerDuty incident as the fake Events API keeps it. */
export interface FakeIncident {
  status: "triggered" | "resolved";
  summary: string;
  severity: string;
  source: string;
  triggers: number;
}

/** An Opsgenie alert as the fake Alert API keeps it. */
export interface FakeGenieAlert {
  alias: string;
  message: string;
  priority: string;
  status: "open" | "closed";
  /** Creates folded into it while open (Opsgenie's de-duplication). */
  count: number;
  note?: string;
}

/** One message a fake Telegram bot or ntfy topic got. */
export interface FakePost {
  title?: string;
  text: string;
  priority?: number;
  tags?: string[];
}

/** Secrets and names the fake services accept. */
export interface OpsServicesOptions {
  pagerDutyRoutingKey: string;
  opsgenieApiKey: string;
  telegramToken: string;
  telegramChats: string[];
  ntfyTopic: string;
  /** Access token the ntfy topic requires; none = public topic. */
  ntfyToken?: string;
}

/**
 * One local HTTP server speaking, as far as trainops uses them, PagerDuty's Events API v2
 * (`POST /v2/enqueue`), Opsgenie's Alert API (`POST /v2/alerts`, close by alias), Telegram's
 * Bot API (`POST /bot<token>/sendMessage`) and ntfy's JSON publishing (`POST /`). Each checks
 * what the real one checks (keys, required fields, limits) and answers with the real status
 * codes and bodies; state (incidents, alerts, chats, topics) is kept for the test to read.
 */
export class FakeOpsServices {
  readonly incidents = new Map<string, FakeIncident>();
  readonly genieAlerts = new Map<string, FakeGenieAlert>();
  readonly telegram = new Map<string, FakePost[]>();
  readonly ntfy: FakePost[] = [];
  /** Every request: method, path, status answered, and the Authorization header. */
  readonly log: Array<{ method: string; path: string; status: number; auth?: string }> = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly options: OpsServicesOptions,
  ) {}

  /** Starts on a random loopback port, or on `port` (a service coming back after an outage). */
  static async start(options: OpsServicesOptions, port = 0): Promise<FakeOpsServices> {
    let instance: FakeOpsServices | null = null;
    const server = createServer((req, res) => instance?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    const bound = (server.address() as AddressInfo).port;
    instance = new FakeOpsServices(server, `http://127.0.0.1:${bound}`, options);
    return instance;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", this.url);
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
      } catch {
        return this.answer(req, res, 400, { error: "invalid JSON" });
      }
      const [status, reply] = this.route(req, url, body);
      this.answer(req, res, status, reply);
    });
  }

  private answer(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
    const auth = req.headers.authorization;
    this.log.push({
      method: req.method ?? "",
      path: new URL(req.url ?? "/", this.url).pathname,
      status,
      ...(auth ? { auth } : {}),
    });
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }

  private route(req: IncomingMessage, url: URL, body: Record<string, unknown>): [number, unknown] {
    if (req.method !== "POST") return [405, { error: "method not allowed" }];
    if (url.pathname === "/v2/enqueue") return this.pagerDuty(body);
    if (url.pathname === "/v2/alerts") return this.genieCreate(req, body);
    const close = /^\/v2\/alerts\/([^/]+)\/close$/.exec(url.pathname);
    if (close) return this.genieClose(req, url, decodeURIComponent(close[1] as string), body);
    const bot = /^\/bot([^/]+)\/sendMessage$/.exec(url.pathname);
    if (bot) return this.telegramSend(bot[1] as string, body);
    if (url.pathname === "/") return this.ntfyPublish(req, body);
    return [404, { error: "not found" }];
  }

  private pagerDuty(body: Record<string, unknown>): [number, unknown] {
    const errors: string[] = [];
    if (body.routing_key !== this.options.pagerDutyRoutingKey)
      errors.push("'routing_key' is invalid");
    const action = body.event_action;
    if (action !== "trigger" && action !== "acknowledge" && action !== "resolve")
      errors.push("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)");
    const key = typeof body.dedup_key === "string" ? body.dedup_key : "";
    if (key.length > 255) errors.push("'dedup_key' is too long (max 255)");
    const payload = (body.payload ?? {}) as Record<string, unknown>;
    if (action === "trigger") {
      if (typeof payload.summary !== "string" || !payload.summary)
        errors.push("'payload.summary' is missing or blank");
      else if (payload.summary.length > 1024) errors.push("'payload.summary' is too long");
      if (typeof payload.source !== "string" || !payload.source)
        errors.push("'payload.source' is missing or blank");
      if (!["critical", "error", "warning", "info"].includes(String(payload.severity)))
        errors.push("'payload.severity' is invalid");
    } else if (!key) errors.push("'dedup_key' is required for acknowledge and resolve");
    if (errors.length)
      return [400, { status: "invalid event", message: "Event object is invalid", errors }];
    if (action === "trigger") {
      const existing = this.incidents.get(key);
      if (existing && existing.status === "triggered") existing.triggers++;
      else
        this.incidents.set(key, {
          status: "triggered",
          summary: String(payload.summary),
          severity: String(payload.severity),
          source: String(payload.source),
          triggers: 1,
        });
    } else if (action === "resolve") {
      const existing = this.incidents.get(key);
      if (existing) existing.status = "resolved";
    }
    return [202, { status: "success", message: "Event processed", dedup_key: key }];
  }

  private genieAuthorized(req: IncomingMessage): boolean {
    return req.headers.authorization === `GenieKey ${this.options.opsgenieApiKey}`;
  }

  private genieCreate(req: IncomingMessage, body: Record<string, unknown>): [number, unknown] {
    if (!this.genieAuthorized(req))
      return [401, { message: "Could not authenticate", took: 0, requestId: "r" }];
    const message = typeof body.message === "string" ? body.message : "";
    if (!message || message.length > 130)
      return [422, { message: "Message can not be empty or longer than 130", took: 0 }];
    const alias = typeof body.alias === "string" && body.alias ? body.alias : message;
    if (alias.length > 512) return [422, { message: "Alias is too long", took: 0 }];
    const open = this.genieAlerts.get(alias);
    if (open?.status === "open") open.count++;
    else
      this.genieAlerts.set(alias, {
        alias,
        message,
        priority: String(body.priority ?? "P3"),
        status: "open",
        count: 1,
      });
    return [202, { result: "Request will be processed", took: 0.1, requestId: "r" }];
  }

  private genieClose(
    req: IncomingMessage,
    url: URL,
    id: string,
    body: Record<string, unknown>,
  ): [number, unknown] {
    if (!this.genieAuthorized(req))
      return [401, { message: "Could not authenticate", took: 0, requestId: "r" }];
    if (url.searchParams.get("identifierType") !== "alias")
      return [422, { message: "identifierType must be alias here", took: 0 }];
    const alert = this.genieAlerts.get(id);
    if (alert) {
      alert.status = "closed";
      if (typeof body.note === "string") alert.note = body.note;
    }
    // Opsgenie processes closes asynchronously: an unknown alias is accepted too.
    return [202, { result: "Request will be processed", took: 0.1, requestId: "r" }];
  }

  private telegramSend(token: string, body: Record<string, unknown>): [number, unknown] {
    if (token !== this.options.telegramToken)
      return [401, { ok: false, error_code: 401, description: "Unauthorized" }];
    const chat = String(body.chat_id ?? "");
    if (!this.options.telegramChats.includes(chat))
      return [400, { ok: false, error_code: 400, description: "Bad Request: chat not found" }];
    const text = typeof body.text === "string" ? body.text : "";
    if (!text.trim())
      return [
        400,
        { ok: false, error_code: 400, description: "Bad Request: message text is empty" },
      ];
    if ([...text].length > 4096)
      return [400, { ok: false, error_code: 400, description: "Bad Request: message is too long" }];
    const list = this.telegram.get(chat) ?? [];
    list.push({ text });
    this.telegram.set(chat, list);
    return [
      200,
      { ok: true, result: { message_id: list.length, chat: { id: chat }, date: 0, text } },
    ];
  }

  private ntfyPublish(req: IncomingMessage, body: Record<string, unknown>): [number, unknown] {
    const topic = typeof body.topic === "string" ? body.topic : "";
    if (!/^[-_A-Za-z0-9]{1,64}$/.test(topic))
      return [400, { code: 40009, http: 400, error: "invalid request: topic invalid" }];
    if (topic !== this.options.ntfyTopic)
      return [404, { code: 40401, http: 404, error: "page not found" }];
    if (this.options.ntfyToken && req.headers.authorization !== `Bearer ${this.options.ntfyToken}`)
      return [403, { code: 40301, http: 403, error: "forbidden" }];
    const priority = body.priority === undefined ? 3 : Number(body.priority);
    if (!Number.isInteger(priority) || priority < 1 || priority > 5)
      return [400, { code: 40007, http: 400, error: "invalid priority" }];
    const text = typeof body.message === "string" ? body.message : "";
    if (Buffer.byteLength(text) > 4096)
      return [413, { code: 41301, http: 413, error: "message too large" }];
    const post: FakePost = {
      text,
      priority,
      ...(typeof body.title === "string" ? { title: body.title } : {}),
      ...(Array.isArray(body.tags) ? { tags: body.tags.map(String) } : {}),
    };
    this.ntfy.push(post);
    return [200, { id: `m${this.ntfy.length}`, time: 0, event: "message", topic, ...post }];
  }
}
