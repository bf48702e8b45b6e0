import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import { type FakeUser, guildObject, userObject } from "./payloads.ts";
import type { SessionLimit } from "./session-limit.ts";

/** Gateway opcodes (v10). */
const OP = {
  dispatch: 0,
  heartbeat: 1,
  identify: 2,
  resume: 6,
  invalidSession: 9,
  hello: 10,
  heartbeatAck: 11,
} as const;

export interface GatewayOptions {
  token: string;
  applicationId: string;
  guildId: string;
  channelIds: string[];
  roleIds: string[];
  bot: FakeUser;
  heartbeatIntervalMs: number;
  /** Where clients connect and resume, e.g. ws://127.0.0.1:1234/gateway. */
  url: () => string;
  /** The session start budget IDENTIFY spends. */
  sessionLimit: SessionLimit;
}

interface Session {
  id: string;
  seq: number;
  /** Every dispatch of the session, kept so a RESUME can replay what a dropped client missed. */
  sent: { s: number; t: string; d: unknown }[];
  socket: WebSocket | null;
}

/** Counters tests assert on. */
export interface GatewayStats {
  /** When each connection attempt came (ms since the epoch), refused ones included. */
  attempts: number[];
  connections: number;
  identifies: number;
  resumes: number;
  heartbeats: number;
  /** Close codes the fake sent or saw. */
  closes: number[];
}

/**
 * The WebSocket side of the fake: HELLO, IDENTIFY → READY + GUILD_CREATE, heartbeats and ACKs,
 * RESUME with replay of missed dispatches, plain JSON frames (no zlib).
 */
export class FakeGateway {
  readonly stats: GatewayStats = {
    attempts: [],
    connections: 0,
    identifies: 0,
    resumes: 0,
    heartbeats: 0,
    closes: [],
  };
  private readonly wss = new WebSocketServer({ noServer: true });
  /** The current session; its dispatches are kept for replay on RESUME, as Discord does. */
  private session: Session | null = null;
  private readonly sockets = new Set<WebSocket>();

  constructor(private readonly options: GatewayOptions) {}

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.stats.attempts.push(Date.now());
    this.wss.handleUpgrade(request, socket, head, (ws) => this.onConnection(ws));
  }

  /** Sends a dispatch to the connected client, or keeps it for replay if it is away. */
  dispatch(t: string, d: unknown): void {
    const session = this.session;
    if (!session) throw new Error("fake gateway: no session yet (client never identified)");
    session.seq += 1;
    const frame = { op: OP.dispatch, t, s: session.seq, d };
    session.sent.push({ s: session.seq, t, d });
    if (session.socket && session.socket.readyState === session.socket.OPEN) {
      session.socket.send(JSON.stringify(frame));
    }
  }

  /** True when a client is identified and connected right now. */
  get connected(): boolean {
    return Boolean(this.session?.socket && this.session.socket.readyState === 1);
  }

  /**
   * Cuts every connection without a close frame, as a network failure does (code 1006). With
   * `forgetSession` the session is gone too: the client's RESUME gets INVALID_SESSION and it must
   * IDENTIFY again.
   */
  drop(forgetSession = false): void {
    for (const ws of this.sockets) ws.terminate();
    if (this.session) this.session.socket = null;
    if (forgetSession) this.session = null;
  }

  /** A connection attempt while the gateway is unreachable: counted, then cut. */
  refuse(socket: Duplex): void {
    this.stats.attempts.push(Date.now());
    socket.destroy();
  }

  close(): void {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
  }

  private onConnection(ws: WebSocket): void {
    this.stats.connections += 1;
    this.sockets.add(ws);
    ws.on("close", (code) => {
      this.stats.closes.push(code);
      this.sockets.delete(ws);
      if (this.session?.socket === ws) this.session.socket = null;
    });
    ws.on("message", (raw) => this.onFrame(ws, raw.toString()));
    ws.send(
      JSON.stringify({ op: OP.hello, d: { heartbeat_interval: this.options.heartbeatIntervalMs } }),
    );
  }

  private onFrame(ws: WebSocket, raw: string): void {
    let frame: { op?: number; d?: Record<string, unknown> | number | null };
    try {
      frame = JSON.parse(raw);
    } catch {
      ws.close(4002, "Error while decoding payload.");
      return;
    }
    switch (frame.op) {
      case OP.heartbeat:
        this.stats.heartbeats += 1;
        ws.send(JSON.stringify({ op: OP.heartbeatAck }));
        return;
      case OP.identify:
        this.identify(ws, frame.d as Record<string, unknown>);
        return;
      case OP.resume:
        this.resume(ws, frame.d as Record<string, unknown>);
        return;
      default:
        // Presence and voice updates are accepted and ignored, as this bot never sends them.
        return;
    }
  }

  private identify(ws: WebSocket, d: Record<string, unknown>): void {
    if (d.token !== this.options.token) {
      ws.close(4004, "Authentication failed.");
      return;
    }
    if (!this.options.sessionLimit.spend()) {
      // Discord resets the token of a bot that keeps identifying past its budget.
      ws.close(4008, "Rate limited.");
      return;
    }
    this.stats.identifies += 1;
    this.session = { id: randomUUID().replaceAll("-", ""), seq: 0, sent: [], socket: ws };
    this.dispatch("READY", {
      v: 10,
      user: { ...userObject(this.options.bot), bot: true, verified: true, mfa_enabled: false },
      guilds: [{ id: this.options.guildId, unavailable: true }],
      session_id: this.session.id,
      session_type: "normal",
      resume_gateway_url: this.options.url(),
      shard: [0, 1],
      application: { id: this.options.applicationId, flags: 0 },
      private_channels: [],
      relationships: [],
      presences: [],
      guild_join_requests: [],
      geo_ordered_rtc_regions: [],
      user_settings: {},
    });
    this.dispatch(
      "GUILD_CREATE",
      guildObject(this.options.guildId, this.options.channelIds, this.options.roleIds),
    );
  }

  private resume(ws: WebSocket, d: Record<string, unknown>): void {
    const session = this.session;
    if (!session || d.session_id !== session.id || d.token !== this.options.token) {
      ws.send(JSON.stringify({ op: OP.invalidSession, d: false }));
      return;
    }
    this.stats.resumes += 1;
    session.socket = ws;
    const from = typeof d.seq === "number" ? d.seq : 0;
    for (const event of session.sent.filter((e) => e.s > from)) {
      ws.send(JSON.stringify({ op: OP.dispatch, t: event.t, s: event.s, d: event.d }));
    }
    session.seq += 1;
    ws.send(JSON.stringify({ op: OP.dispatch, t: "RESUMED", s: session.seq, d: {} }));
  }
}
