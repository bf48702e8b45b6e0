import type { IncomingMessage } from "node:http";

/** One file part of a multipart request, as Discord receives `files[n]`. */
export interface ReceivedFile {
  field: string;
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface ParsedBody {
  json: unknown;
  files: ReceivedFile[];
  /** `multipart/form-data` or `application/json`, or empty when there was no body. */
  contentType: string;
}

async function readAll(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Reads a JSON or multipart body. Multipart is parsed by the platform's own Fetch `FormData`
 * parser, so the boundary handling is not ours to get wrong: `payload_json` holds the JSON and
 * every other part is a file.
 */
export async function parseBody(request: IncomingMessage): Promise<ParsedBody> {
  const raw = await readAll(request);
  const contentType = request.headers["content-type"] ?? "";
  if (raw.length === 0) return { json: undefined, files: [], contentType: "" };
  if (contentType.startsWith("multipart/form-data")) {
    return { ...(await parseMultipart(raw, contentType)), contentType: "multipart/form-data" };
  }
  return { json: JSON.parse(raw.toString("utf8")), files: [], contentType: "application/json" };
}

/** A multipart body: `payload_json` parsed as the JSON, every other part a file. */
export async function parseMultipart(
  raw: Buffer,
  contentType: string,
): Promise<{ json: unknown; files: ReceivedFile[] }> {
  const form = await new Response(new Uint8Array(raw), {
    headers: { "content-type": contentType },
  }).formData();
  let json: unknown;
  const files: ReceivedFile[] = [];
  for (const [field, value] of form.entries()) {
    if (typeof value === "string") {
      if (field === "payload_json") json = JSON.parse(value);
      continue;
    }
    files.push({
      field,
      filename: value.name,
      contentType: value.type,
      data: Buffer.from(await value.arrayBuffer()),
    });
  }
  return { json, files };
}
