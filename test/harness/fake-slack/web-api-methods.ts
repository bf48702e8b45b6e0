import { checkMessageLimits } from "./block-limits.ts";
import { FAKE_APP_ID, FAKE_BOT, FAKE_TEAM } from "./payloads.ts";

/** One message the bot posted to a channel (chat.postMessage), with later chat.update edits. */
export interface PostedMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown[];
  threadTs?: string;
  metadata?: unknown;
  /** Earlier versions, oldest first, when chat.update replaced it. */
  history: { text: string; blocks: unknown[] }[];
}

/** A chat.postEphemeral message: only `user` sees it. */
export interface EphemeralMessage {
  channel: string;
  user: string;
  text: string;
  blocks: unknown[];
}

/** A file from files.getUploadURLExternal → upload URL → files.completeUploadExternal. */
export interface UploadedFile {
  id: string;
  filename: string;
  length: number;
  altText?: string;
  bytes?: Buffer;
  title?: string;
  channel?: string;
  threadTs?: string;
  initialComment?: string;
  completed: boolean;
}

/** What the Web API methods read and change. */
export interface WebApiState {
  botToken: string;
  appToken: string;
  baseUrl: () => string;
  userGroups: Record<string, string[]>;
  messages: PostedMessage[];
  ephemerals: EphemeralMessage[];
  files: Map<string, UploadedFile>;
  issueTicket: () => string;
  nextTs: () => string;
  nextId: (prefix: string) => string;
}

type Args = Record<string, unknown>;
type Result = Record<string, unknown>;

/** Methods that take the app-level token (xapp-) instead of the bot token. */
const APP_TOKEN_METHODS = new Set(["apps.connections.open"]);

/** Fields Slack's form encoding carries as JSON strings. */
const JSON_FIELDS = ["blocks", "attachments", "files", "metadata"];

/** Decodes JSON-in-form fields the way Slack does, so handlers see structured values. */
export function normaliseArgs(args: Args): Args {
  const out: Args = { ...args };
  for (const key of JSON_FIELDS) {
    if (typeof out[key] === "string") {
      try {
        out[key] = JSON.parse(out[key] as string);
      } catch {
        out[key] = { invalid_json: out[key] };
      }
    }
  }
  return out;
}

/** Runs one Web API method; unknown methods answer `unknown_method` as Slack does. */
export function callMethod(
  state: WebApiState,
  method: string,
  args: Args,
  token: string | undefined,
): Result {
  const expected = APP_TOKEN_METHODS.has(method) ? state.appToken : state.botToken;
  if (!token) return { ok: false, error: "not_authed" };
  if (token !== expected) {
    return { ok: false, error: APP_TOKEN_METHODS.has(method) ? "invalid_auth" : "invalid_auth" };
  }
  const handler = METHODS[method];
  if (!handler) return { ok: false, error: "unknown_method" };
  return handler(state, args);
}

function limitsError(text: unknown, blocks: unknown): Result | undefined {
  const violation = checkMessageLimits(text, blocks);
  return violation
    ? { ok: false, error: violation.error, response_metadata: { messages: [violation.detail] } }
    : undefined;
}

const METHODS: Record<string, (state: WebApiState, args: Args) => Result> = {
  "auth.test": () => ({
    ok: true,
    url: `https://${FAKE_TEAM.domain}.slack.com/`,
    team: "trainops test",
    user: "trainops",
    team_id: FAKE_TEAM.id,
    user_id: FAKE_BOT.userId,
    bot_id: FAKE_BOT.botId,
    is_enterprise_install: false,
  }),
  "apps.connections.open": (state) => ({
    ok: true,
    url: `${state
      .baseUrl()
      .replace(/^http/, "ws")
      .replace(/api\/$/, "")}link/?ticket=${state.issueTicket()}&app_id=${FAKE_APP_ID}`,
  }),
  "chat.postMessage": (state, args) => {
    if (typeof args.channel !== "string" || !args.channel)
      return { ok: false, error: "channel_not_found" };
    if (args.channel.startsWith("C0MISSING")) return { ok: false, error: "channel_not_found" };
    const bad = limitsError(args.text, args.blocks);
    if (bad) return bad;
    const message: PostedMessage = {
      channel: args.channel,
      ts: state.nextTs(),
      text: String(args.text ?? ""),
      blocks: (args.blocks as unknown[]) ?? [],
      threadTs: typeof args.thread_ts === "string" ? args.thread_ts : undefined,
      metadata: args.metadata,
      history: [],
    };
    state.messages.push(message);
    return {
      ok: true,
      channel: message.channel,
      ts: message.ts,
      message: {
        type: "message",
        text: message.text,
        blocks: message.blocks,
        ts: message.ts,
        bot_id: FAKE_BOT.botId,
      },
    };
  },
  "chat.postEphemeral": (state, args) => {
    if (typeof args.channel !== "string" || typeof args.user !== "string") {
      return { ok: false, error: "invalid_arguments" };
    }
    const bad = limitsError(args.text, args.blocks);
    if (bad) return bad;
    state.ephemerals.push({
      channel: args.channel,
      user: args.user,
      text: String(args.text ?? ""),
      blocks: (args.blocks as unknown[]) ?? [],
    });
    return { ok: true, message_ts: state.nextTs() };
  },
  "chat.update": (state, args) => {
    const message = state.messages.find((m) => m.channel === args.channel && m.ts === args.ts);
    if (!message) return { ok: false, error: "message_not_found" };
    const bad = limitsError(args.text, args.blocks);
    if (bad) return bad;
    message.history.push({ text: message.text, blocks: message.blocks });
    message.text = String(args.text ?? message.text);
    if (args.blocks !== undefined) message.blocks = args.blocks as unknown[];
    return { ok: true, channel: message.channel, ts: message.ts, text: message.text };
  },
  "files.getUploadURLExternal": (state, args) => {
    const length = Number(args.length);
    if (typeof args.filename !== "string" || !Number.isInteger(length) || length <= 0) {
      return { ok: false, error: "invalid_arguments" };
    }
    const id = state.nextId("F");
    state.files.set(id, {
      id,
      filename: args.filename,
      length,
      altText: typeof args.alt_text === "string" ? args.alt_text : undefined,
      completed: false,
    });
    return {
      ok: true,
      upload_url: `${state.baseUrl().replace(/api\/$/, "")}upload/${id}`,
      file_id: id,
    };
  },
  "files.completeUploadExternal": (state, args) => {
    const list = args.files;
    if (!Array.isArray(list) || list.length === 0) return { ok: false, error: "invalid_arguments" };
    const done: Result[] = [];
    for (const entry of list as Args[]) {
      const file = state.files.get(String(entry.id));
      if (!file?.bytes) return { ok: false, error: "file_not_found" };
      if (file.bytes.length !== file.length)
        return { ok: false, error: "file_uploaded_size_mismatch" };
      file.completed = true;
      file.title = typeof entry.title === "string" ? entry.title : file.filename;
      file.channel = typeof args.channel_id === "string" ? args.channel_id : undefined;
      file.threadTs = typeof args.thread_ts === "string" ? args.thread_ts : undefined;
      file.initialComment =
        typeof args.initial_comment === "string" ? args.initial_comment : undefined;
      done.push({ id: file.id, title: file.title, name: file.filename, size: file.length });
    }
    return { ok: true, files: done };
  },
  "usergroups.users.list": (state, args) => {
    const users = state.userGroups[String(args.usergroup)];
    return users ? { ok: true, users } : { ok: false, error: "no_such_subteam" };
  },
  "usergroups.list": (state, args) => ({
    ok: true,
    usergroups: Object.entries(state.userGroups).map(([id, users]) => ({
      id,
      team_id: FAKE_TEAM.id,
      handle: id.toLowerCase(),
      ...(args.include_users === true || args.include_users === "true" ? { users } : {}),
    })),
  }),
};

/** Whether a response_url body fits Slack's limits; returns the error to answer with. */
export function checkResponseBody(body: Args): Result | undefined {
  return limitsError(body.text, body.blocks);
}
