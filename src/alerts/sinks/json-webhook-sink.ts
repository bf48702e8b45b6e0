import { createHmac } from "node:crypto";
import type { AlertNotice, Message } from "../../message/message.ts";
import type { AlertSink, DeliveryResult } from "./alert-sink.ts";
import { type HttpSinkSeams, postJsonWith } from "./json-post.ts";

/** Version of the generic webhook's payload; bumped on any incompatible change. */
export const JSON_PAYLOAD_VERSION = 1;

/** Header with the HMAC-SHA256 signature: `sha256=<hex>` of `<timestamp>.<body>`. */
export const SIGNATURE_HEADER = "x-trainops-signature";
/** Header with the signing time in Unix seconds (part of what is signed: replays show). */
export const TIMESTAMP_HEADER = "x-trainops-timestamp";

/** One alert in the generic payload; times are ISO 8601 UTC. */
export interface JsonAlert {
  status: "firing" | "resolved";
  rule: string;
  run: string;
  phase: string | null;
  severity: string;
  summary: string;
  dedupeKey: string;
  startedAt: string;
  endedAt: string | null;
  node: string;
  gpu: string | null;
}

/** The generic webhook's body (version 1). See docs/json-webhook.md. */
export interface JsonPayload {
  version: number;
  /** Same on every retry of one delivery: receivers deduplicate with it. */
  id: string;
  sentAt: string;
  run: string | null;
  severity: string;
  title: string;
  lines: string[];
  fields: Array<{ name: string; value: string }>;
  code: string | null;
  footer: string | null;
  alerts: JsonAlert[];
}

/** The generic payload for a message. */
export function jsonPayload(message: Message, id: string, now: Date): JsonPayload {
  return {
    version: JSON_PAYLOAD_VERSION,
    id,
    sentAt: now.toISOString(),
    run: message.run ?? null,
    severity: message.severity,
    title: message.title,
    lines: message.lines ?? [],
    fields: (message.fields ?? []).map((f) => ({ name: f.name, value: f.value })),
    code: message.code ?? null,
    footer: message.footer ?? null,
    alerts: (message.alerts ?? []).map(jsonAlert),
  };
}

function jsonAlert(a: AlertNotice): JsonAlert {
  return {
    status: a.status,
    rule: a.rule,
    run: a.run,
    phase: a.phase,
    severity: a.severity,
    summary: a.summary,
    dedupeKey: a.dedupeKey,
    startedAt: new Date(a.startedAt).toISOString(),
    endedAt: a.endedAt !== undefined ? new Date(a.endedAt).toISOString() : null,
    node: a.node,
    gpu: a.gpu ?? null,
  };
}

/** `sha256=<hex>` over `<timestamp>.<body>` with the shared secret. */
export function signPayload(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** Settings of a generic JSON webhook. */
export interface JsonWebhookSettings {
  url: string;
  /** HMAC secret; without one the request is not signed. */
  secret?: string;
}

/**
 * Posts every message as the documented, versioned JSON payload; signs it when a secret is
 * configured so the receiver can tell the request came from this daemon and was not replayed.
 */
export class JsonWebhookSink implements AlertSink {
  constructor(
    readonly name: string,
    private readonly settings: JsonWebhookSettings,
    private readonly seams: HttpSinkSeams & { now?: () => Date } = {},
  ) {}

  deliver(message: Message, idempotencyKey: string): Promise<DeliveryResult> {
    const now = this.seams.now?.() ?? new Date();
    const payload = jsonPayload(message, idempotencyKey, now);
    const headers: Record<string, string> = {};
    if (this.settings.secret) {
      const timestamp = String(Math.floor(now.getTime() / 1000));
      headers[TIMESTAMP_HEADER] = timestamp;
      headers[SIGNATURE_HEADER] = signPayload(
        this.settings.secret,
        timestamp,
        JSON.stringify(payload),
      );
    }
    return postJsonWith(this.seams, this.settings.url, headers, payload, idempotencyKey);
  }
}
