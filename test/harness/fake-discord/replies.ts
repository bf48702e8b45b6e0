/** Answers of the fake's REST routes, and the failures tests inject. */

export interface Reply {
  status: number;
  json?: unknown;
  headers?: Record<string, string>;
}

/** How the next matching requests fail: a status, or a 429 with `retry_after` seconds. */
export type Failure =
  | number
  | { retryAfter: number; global?: boolean }
  /** Do the work, then answer with this status anyway (a reply lost on the way back). */
  | { status: number; afterProcessing: true };

/** A 404 with Discord's error code, e.g. 10003 Unknown Channel. */
export function unknown(code: number, message: string): Reply {
  return { status: 404, json: { message, code } };
}

/** A 400 Invalid Form Body (50035) listing what Discord would refuse. */
export function invalidForm(problems: string[]): Reply {
  return { status: 400, json: { message: "Invalid Form Body", code: 50035, errors: problems } };
}

/** The reply for an injected failure; 429s carry the headers discord.js reads. */
export function failureReply(failure: Failure): Reply {
  if (typeof failure === "number") {
    return { status: failure, json: { message: `${failure}: fake failure`, code: 0 } };
  }
  if ("retryAfter" in failure) {
    const seconds = String(failure.retryAfter);
    return {
      status: 429,
      json: {
        message: "You are being rate limited.",
        retry_after: failure.retryAfter,
        global: Boolean(failure.global),
      },
      headers: {
        "retry-after": seconds,
        "x-ratelimit-limit": "5",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset-after": seconds,
        "x-ratelimit-bucket": "fake-bucket",
        "x-ratelimit-scope": failure.global ? "global" : "user",
        ...(failure.global ? { "x-ratelimit-global": "true" } : {}),
      },
    };
  }
  return failureReply(failure.status);
}
