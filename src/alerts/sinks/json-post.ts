import type { DeliveryResult } from "./alert-sink.ts";
import { type FetchLike, post } from "./http-delivery.ts";

/** Seams and limits every HTTP sink takes. */
export interface HttpSinkSeams {
  /** The fetch to use; tests pass one that reaches a local server. */
  fetch?: FetchLike;
  /** Per-request timeout in milliseconds (default 10 s). */
  timeoutMs?: number;
}

/** Default per-request timeout of the HTTP sinks. */
export const DEFAULT_SINK_TIMEOUT_MS = 10_000;

/** POSTs `body` as JSON with extra headers (auth, signatures); classified as webhooks are. */
export function postJsonWith(
  seams: HttpSinkSeams,
  url: string,
  headers: Record<string, string>,
  body: unknown,
  idempotencyKey: string,
): Promise<DeliveryResult> {
  return post(
    seams.fetch ?? fetch,
    url,
    { "content-type": "application/json", ...headers },
    JSON.stringify(body),
    idempotencyKey,
    seams.timeoutMs ?? DEFAULT_SINK_TIMEOUT_MS,
  );
}

/**
 * Runs requests one after another and stops at the first that fails. Incident APIs take one
 * alert per request; every request is keyed by the alert, so repeating the ones that already
 * succeeded when the outbox retries the message changes nothing on the other side.
 */
export async function inOrder(
  requests: ReadonlyArray<() => Promise<DeliveryResult>>,
): Promise<DeliveryResult> {
  for (const request of requests) {
    const result = await request();
    if (!result.ok) return result;
  }
  return { ok: true };
}

/** Joins a base URL and a path without doubling or losing the slash. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
}
