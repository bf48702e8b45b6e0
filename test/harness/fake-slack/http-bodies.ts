import type { IncomingMessage, ServerResponse } from "node:http";
import { normaliseArgs } from "./web-api-methods.ts";

/** Reads a whole request body. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Form, JSON and multipart bodies, as Slack's Web API accepts them. */
export async function parseArgs(
  req: IncomingMessage,
  raw: Buffer,
  url: URL,
): Promise<Record<string, unknown>> {
  const type = req.headers["content-type"] ?? "";
  const args: Record<string, unknown> = Object.fromEntries(url.searchParams);
  if (type.startsWith("application/json")) {
    Object.assign(args, raw.length ? JSON.parse(raw.toString("utf8")) : {});
  } else if (type.startsWith("application/x-www-form-urlencoded")) {
    Object.assign(args, Object.fromEntries(new URLSearchParams(raw.toString("utf8"))));
  } else if (type.startsWith("multipart/form-data")) {
    const form = await new Response(new Uint8Array(raw), {
      headers: { "content-type": type },
    }).formData();
    for (const [key, value] of form) {
      args[key] = typeof value === "string" ? value : Buffer.from(await value.arrayBuffer());
    }
  }
  return normaliseArgs(args);
}

export function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(JSON.stringify(body));
}
