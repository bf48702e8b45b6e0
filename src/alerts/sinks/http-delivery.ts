import type { DeliveryResult } from "./alert-sink.ts";

/** The fetch a webhook sink uses; injected so tests reach a local server. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** Header carrying the delivery's idempotency key (ignored by platforms, useful to proxies). */
export const IDEMPOTENCY_HEADER = "x-trainops-idempotency-key";

/**
 * How long a webhook may take to answer. Platforms answer slowly at times (tens of seconds)
 * while still posting the message: giving up earlier and retrying is what posts it twice.
 */
export const WEBHOOK_TIMEOUT_MS = 90_000;

/**
 * Errors after the request may have reached the platform: the connection was cut, or no
 * answer came in time. Anything else (refused, unresolvable, a port fetch will not use) sent
 * nothing.
 */
const MAYBE_SENT = new Set([
  "ECONNRESET",
  "EPIPE",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/** A file sent with a webhook message (a chart). */
export interface WebhookFile {
  name: string;
  png: Buffer;
}

/** POSTs a JSON body; see {@link post} for how the answer is classified. */
export function postJson(
  fetchImpl: FetchLike,
  url: string,
  body: unknown,
  idempotencyKey: string,
  timeoutMs: number,
): Promise<DeliveryResult> {
  const headers = { "content-type": "application/json" };
  return post(fetchImpl, url, headers, JSON.stringify(body), idempotencyKey, timeoutMs);
}

/**
 * POSTs a JSON payload with files as multipart/form-data, the way Discord webhooks take
 * attachments: the message as `payload_json`, the files as `files[0]`, `files[1]`, ….
 */
export function postMultipart(
  fetchImpl: FetchLike,
  url: string,
  payload: unknown,
  files: readonly WebhookFile[],
  idempotencyKey: string,
  timeoutMs: number,
): Promise<DeliveryResult> {
  const form = new FormData();
  form.append("payload_json", JSON.stringify(payload));
  files.forEach((file, i) => {
    form.append(
      `files[${i}]`,
      new Blob([new Uint8Array(file.png)], { type: "image/png" }),
      file.name,
    );
  });
  // fetch sets the multipart content type with its boundary itself.
  return post(fetchImpl, url, {}, form, idempotencyKey, timeoutMs);
}

/**
 * POSTs and classifies the answer: 2xx ok; 429 and 5xx retryable (429 with the platform's
 * wait); other 4xx permanent. Error text never includes the URL: webhook URLs are secrets.
 */
export async function post(
  fetchImpl: FetchLike,
  url: string,
  headers: Record<string, string>,
  body: string | FormData,
  idempotencyKey: string,
  timeoutMs: number,
): Promise<DeliveryResult> {
  let response: Response;
  try {
    response = await fetchImpl(url, {
      method: "POST",
      headers: { ...headers, [IDEMPOTENCY_HEADER]: idempotencyKey },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    const name = (error as Error).name;
    return {
      ok: false,
      retryable: true,
      ...(name === "TimeoutError" || name === "AbortError" || MAYBE_SENT.has(cause ?? "")
        ? { unknownOutcome: true }
        : {}),
      error:
        name === "TimeoutError"
          ? `no answer within ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`}`
          : `request failed: ${cause ?? name}`,
    };
  }
  // Accepted: return at once so the sender marks it sent without waiting for the body; this
  // keeps the window between the platform's 2xx and our record as short as it can be. The body
  // is read to its end in the background rather than cancelled: a cancelled body closes the
  // socket, a drained one goes back to fetch's keep-alive pool for the next alert.
  if (response.ok) {
    response.arrayBuffer().catch(() => {});
    return { ok: true };
  }
  const text = await response.text().catch(() => "");
  if (response.status === 429) {
    return {
      ok: false,
      retryable: true,
      retryAfterMs: retryAfterMs(response, text),
      error: "rate limited (HTTP 429)",
    };
  }
  const detail = text.slice(0, 200).replace(/\s+/g, " ");
  if (response.status >= 500 || response.status === 408) {
    return { ok: false, retryable: true, error: `HTTP ${response.status} ${detail}`.trim() };
  }
  return { ok: false, retryable: false, error: `HTTP ${response.status} ${detail}`.trim() };
}

/** Discord puts `retry_after` (seconds, fractional) in the JSON body; Slack sends Retry-After. */
function retryAfterMs(response: Response, body: string): number | undefined {
  try {
    const parsed = JSON.parse(body) as { retry_after?: unknown };
    if (typeof parsed.retry_after === "number") return Math.ceil(parsed.retry_after * 1000);
  } catch {
    // not JSON: fall back to the header
  }
  const header = response.headers.get("retry-after");
  if (header && /^\d+(\.\d+)?$/.test(header.trim())) return Math.ceil(Number(header) * 1000);
  return undefined;
}

/** Cuts text to `max` characters, marking the cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}
