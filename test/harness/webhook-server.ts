import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parseMultipart, type ReceivedFile } from "./fake-discord/request-body.ts";

/** How the server answers one request. */
export type WebhookReply =
  /** `delayMs`: the platform posts at once but answers only after this long (a slow platform). */
  | { status: 200 | 204; delayMs?: number }
  | { status: 500 | 502 | 503 }
  | { status: 400 | 404; body?: string }
  /** Discord style: JSON body `{ retry_after: seconds }`; Slack style: `Retry-After` header. */
  | { status: 429; retryAfterSeconds: number; style?: "discord" | "slack" }
  /** Never answer (until the client goes away): stands in for a slow platform. */
  | { hold: true };

/** One request as received. */
export interface ReceivedWebhook {
  path: string;
  query: string;
  headers: IncomingMessage["headers"];
  body: unknown;
  /** Files of a multipart request (Discord's `files[n]`), in order. */
  files: ReceivedFile[];
  /** What the server answered; "held" for requests never answered. */
  outcome: number | "held";
}

/**
 * A local HTTP server standing in for Discord and Slack webhooks. Answers come from a queue
 * (`script`), then the default (200). `accepted` counts 2xx answers per idempotency key (the
 * `x-trainops-idempotency-key` header), counted when the answer was fully written.
 */
export class WebhookServer {
  readonly received: ReceivedWebhook[] = [];
  readonly accepted = new Map<string, number>();
  private readonly queue: WebhookReply[] = [];
  private readonly waiters: Array<() => void> = [];
  private readonly held = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  /** Starts a server on a random loopback port. */
  static async start(): Promise<WebhookServer> {
    let instance: WebhookServer | null = null;
    const server = createServer((req, res) => instance?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    instance = new WebhookServer(server, `http://127.0.0.1:${port}`);
    return instance;
  }

  /** Queues answers for the next requests, in order. */
  script(...replies: WebhookReply[]): void {
    this.queue.push(...replies);
  }

  /** Drops the scripted answers not used yet: from here on every request gets the default 200. */
  clearScript(): void {
    this.queue.length = 0;
  }

  /**
   * Requests received per idempotency key: what a platform that posts on receipt would show,
   * whether or not the client waited for the answer.
   */
  postedPerKey(): Map<string, number> {
    const posted = new Map<string, number>();
    for (const r of this.received) {
      const key = String(r.headers["x-trainops-idempotency-key"] ?? "");
      posted.set(key, (posted.get(key) ?? 0) + 1);
    }
    return posted;
  }

  /** Total 2xx answers over all keys. */
  acceptedTotal(): number {
    return [...this.accepted.values()].reduce((a, b) => a + b, 0);
  }

  /** Resolves once `predicate` holds (checked after every request). */
  waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error("webhook server: condition not met in time")),
        timeoutMs,
      );
      const check = () => {
        if (predicate()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  async close(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const url = new URL(req.url ?? "/", this.url);
      const raw = Buffer.concat(chunks);
      const { body, files } = await parseBody(raw, String(req.headers["content-type"] ?? ""));
      const reply = this.queue.shift() ?? { status: 200 };
      const record: ReceivedWebhook = {
        path: url.pathname,
        query: url.search,
        headers: req.headers,
        body,
        files,
        outcome: "held",
      };
      this.received.push(record);
      if ("hold" in reply) {
        this.held.add(res);
        res.on("close", () => this.held.delete(res));
        this.notify();
        return;
      }
      record.outcome = reply.status;
      if (reply.status === 429) {
        if (reply.style === "slack") {
          res.writeHead(429, { "retry-after": String(reply.retryAfterSeconds) });
          res.end("rate_limited");
        } else {
          res.writeHead(429, { "content-type": "application/json" });
          res.end(
            JSON.stringify({
              message: "You are being rate limited.",
              retry_after: reply.retryAfterSeconds,
              global: false,
            }),
          );
        }
        this.notify();
        return;
      }
      if (reply.status === 200 || reply.status === 204) {
        const key = String(req.headers["x-trainops-idempotency-key"] ?? "");
        if (reply.delayMs) {
          this.held.add(res);
          await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
          this.held.delete(res);
          if (res.destroyed) return;
        }
        res.writeHead(reply.status, { "content-type": "application/json" });
        res.end(
          reply.status === 200 ? JSON.stringify({ id: String(this.received.length) }) : undefined,
          () => {
            this.accepted.set(key, (this.accepted.get(key) ?? 0) + 1);
            this.notify();
          },
        );
        return;
      }
      res.writeHead(reply.status, { "content-type": "text/plain" });
      res.end("body" in reply && reply.body ? reply.body : "error");
      this.notify();
    });
  }

  private notify(): void {
    const waiting = this.waiters.splice(0);
    for (const check of waiting) check();
  }
}

/** JSON, or multipart/form-data as Discord webhooks take it; anything else stays raw text. */
async function parseBody(
  raw: Buffer,
  contentType: string,
): Promise<{ body: unknown; files: ReceivedFile[] }> {
  if (contentType.startsWith("multipart/form-data")) {
    const { json, files } = await parseMultipart(raw, contentType);
    return { body: json, files };
  }
  const text = raw.toString("utf8");
  try {
    return { body: JSON.parse(text), files: [] };
  } catch {
    return { body: text, files: [] };
  }
}
