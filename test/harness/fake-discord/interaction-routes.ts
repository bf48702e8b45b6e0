import type { FakeDiscord, ReceivedRequest } from "./fake-discord.ts";
import { messageObject, type StoredMessage } from "./payloads.ts";
import type { Reply } from "./replies.ts";
import { messageProblems } from "./validation.ts";

/** What the fake remembers about one interaction it dispatched. */
export interface InteractionState {
  id: string;
  token: string;
  payload: Record<string, unknown>;
  createdAt: number;
  /** The first response's type (4, 5, 6, 7, 8), null until answered. */
  callbackType: number | null;
  /** The response message (`@original`), once there is one. */
  original: StoredMessage | null;
  followUps: StoredMessage[];
}

const LOADING = 128;
/** Interaction tokens stay valid for follow-ups for 15 minutes. */
const TOKEN_LIFETIME_MS = 15 * 60_000;

const error = (status: number, code: number, message: string): Reply => ({
  status,
  json: { message, code },
});

/** Interaction callbacks and the interaction webhook; undefined when the route is not one. */
export function handleInteractionRoute(
  fake: FakeDiscord,
  parts: string[],
  r: ReceivedRequest,
): Reply | undefined {
  if (parts[0] === "interactions" && parts[3] === "callback" && r.method === "POST") {
    return callback(fake, parts[1]!, parts[2]!, r);
  }
  if (parts[0] === "webhooks" && parts.length >= 3) return webhook(fake, parts, r);
  return undefined;
}

function channelOf(state: InteractionState): string {
  return String(state.payload.channel_id ?? "");
}

function callback(fake: FakeDiscord, id: string, token: string, r: ReceivedRequest): Reply {
  const state = fake.interactions.get(id);
  if (!state || state.token !== token) return error(404, 10062, "Unknown interaction");
  if (Date.now() - state.createdAt > fake.ackDeadlineMs) {
    return error(404, 10062, "Unknown interaction");
  }
  if (state.callbackType !== null) {
    return error(400, 40060, "Interaction has already been acknowledged.");
  }
  const body = r.body ?? {};
  const type = Number(body.type);
  const data = (body.data ?? {}) as Record<string, unknown>;
  const kind = Number(state.payload.type);
  const allowed: Record<number, number[]> = { 2: [4, 5, 9], 3: [4, 5, 6, 7, 9], 4: [8] };
  if (!(allowed[kind] ?? []).includes(type)) {
    return error(400, 50035, `Invalid Form Body: response type ${type} for interaction ${kind}`);
  }
  if (type === 8) {
    const choices = Array.isArray(data.choices) ? data.choices : [];
    if (choices.length > 25) return error(400, 50035, "Invalid Form Body: more than 25 choices");
  } else {
    const problems = messageProblems(data);
    if (problems.length > 0) return { status: 400, json: { code: 50035, errors: problems } };
  }
  state.callbackType = type;
  if (type === 4) state.original = fake.storeMessage(channelOf(state), data, r.files);
  if (type === 5) {
    state.original = fake.storeMessage(channelOf(state), {}, []);
    state.original.flags = (Number(data.flags) || 0) | LOADING;
  }
  if (type === 6 || type === 7) {
    const source = state.payload.message as Record<string, unknown> | undefined;
    state.original = fake.storeMessage(channelOf(state), source ?? {}, []);
    state.original.id = String(source?.id ?? state.original.id);
    if (type === 7) applyEdit(state.original, data, r);
  }
  if (r.query.get("with_response") === "true") {
    return {
      status: 200,
      json: {
        interaction: { id: state.id, type: kind, response_message_loading: type === 5 },
        resource: { type, ...(state.original ? { message: messageObject(state.original) } : {}) },
      },
    };
  }
  return { status: 204 };
}

function applyEdit(message: StoredMessage, body: Record<string, unknown>, r: ReceivedRequest) {
  if (typeof body.content === "string") message.content = body.content;
  if (Array.isArray(body.embeds)) message.embeds = body.embeds;
  if (Array.isArray(body.components)) message.components = body.components;
  if (r.files.length > 0 || Array.isArray(body.attachments)) {
    const fresh = r.files.length > 0 ? fakeAttachments(r) : [];
    const kept = Array.isArray(body.attachments)
      ? message.attachments.filter((a) =>
          (body.attachments as { id?: unknown }[]).some((k) => String(k.id) === a.id),
        )
      : message.attachments;
    message.attachments = [...kept, ...fresh];
  }
  message.flags &= ~LOADING;
  message.edited_timestamp = new Date().toISOString();
}

function fakeAttachments(r: ReceivedRequest): StoredMessage["attachments"] {
  return r.files.map((file, i) => ({
    id: `${Date.now()}${i}`,
    filename: file.filename,
    size: file.data.length,
    content_type: file.contentType,
    url: `attachment://${file.filename}`,
    proxy_url: `attachment://${file.filename}`,
  }));
}

function webhook(fake: FakeDiscord, parts: string[], r: ReceivedRequest): Reply {
  const [, appId, token, sub, messageId] = parts;
  const state = [...fake.interactions.values()].find((s) => s.token === token);
  if (!state || appId !== fake.applicationId || state.callbackType === null) {
    return error(404, 10015, "Unknown Webhook");
  }
  if (Date.now() - state.createdAt > TOKEN_LIFETIME_MS) {
    return error(401, 50027, "Invalid Webhook Token");
  }
  const body = r.body ?? {};
  if (sub === undefined && r.method === "POST") {
    const problems = messageProblems(body);
    if (problems.length > 0) return { status: 400, json: { code: 50035, errors: problems } };
    const message = fake.storeMessage(channelOf(state), body, r.files);
    message.webhook_id = fake.applicationId;
    state.followUps.push(message);
    return { status: 200, json: messageObject(message) };
  }
  if (sub !== "messages" || !messageId) return error(404, 0, "404: Not Found");
  const target =
    messageId === "@original" ? state.original : state.followUps.find((m) => m.id === messageId);
  if (!target) return error(404, 10008, "Unknown Message");
  switch (r.method) {
    case "GET":
      return { status: 200, json: messageObject(target) };
    case "PATCH": {
      const problems = messageProblems(body);
      if (problems.length > 0) return { status: 400, json: { code: 50035, errors: problems } };
      applyEdit(target, body, r);
      return { status: 200, json: messageObject(target) };
    }
    case "DELETE":
      if (messageId === "@original") state.original = null;
      else state.followUps = state.followUps.filter((m) => m !== target);
      return { status: 204 };
    default:
      return error(405, 0, "405: Method Not Allowed");
  }
}
