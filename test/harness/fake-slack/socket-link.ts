import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import { FAKE_APP_ID } from "./payloads.ts";

/**
 * The Socket Mode side of the fake: one-use tickets from apps.connections.open, `hello` on
 * connect, envelopes out, acks (matched by envelope_id) in, and Slack's `disconnect` request.
 */
export class SocketLink {
  /** Close codes of connections that ended (1000: a clean close handshake). */
  readonly closeCodes: number[] = [];
  /** The next connection gets no `hello` (a stuck link). */
  silentOnce = false;
  /** Connections opened so far (reconnects count). */
  opened = 0;
  /** When each connection opened (ms since the epoch). */
  readonly openedAt: number[] = [];
  /**
   * Every connection is cut shortly after its `hello`, as a Slack edge that accepts links and
   * drops them does.
   */
  flapping = false;
  /** Acks Slack would not accept: unknown or already acked envelope ids, or later than 3 s. */
  readonly badAcks: string[] = [];
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sockets = new Set<WebSocket>();
  private readonly tickets = new Set<string>();
  private readonly pendingAcks = new Map<
    string,
    { sentAt: number; resolve: (ack: { payload: unknown }) => void }
  >();

  constructor() {
    this.wss.on("connection", (socket) => this.onSocket(socket));
  }

  /** Open connections now. */
  get open(): number {
    return this.sockets.size;
  }

  /** The newest open connection, where Slack sends envelopes. */
  newest(): WebSocket | undefined {
    return [...this.sockets].at(-1);
  }

  /** A ticket for one connection, put in the URL apps.connections.open returns. */
  issueTicket(): string {
    const ticket = randomUUID();
    this.tickets.add(ticket);
    return ticket;
  }

  /** Accepts an upgrade to `/link/?ticket=…` with a ticket not used before. */
  upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const ticket = url.searchParams.get("ticket") ?? "";
    if (url.pathname !== "/link/" || !this.tickets.delete(ticket)) {
      socket.end("HTTP/1.1 401 Unauthorized\r\n\r\n");
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit("connection", ws, req));
  }

  /** Sends an envelope; `acked` resolves with the payload of the app's ack. */
  send(
    socket: WebSocket,
    type: string,
    payload: unknown,
    acceptsResponsePayload: boolean,
  ): { envelopeId: string; acked: Promise<{ payload: unknown }> } {
    const envelopeId = randomUUID();
    const acked = new Promise<{ payload: unknown }>((resolve) =>
      this.pendingAcks.set(envelopeId, { sentAt: Date.now(), resolve }),
    );
    socket.send(
      JSON.stringify({
        envelope_id: envelopeId,
        payload,
        type,
        accepts_response_payload: acceptsResponsePayload,
      }),
    );
    return { envelopeId, acked };
  }

  /** Asks every client to reconnect, as Slack does when it recycles a server. */
  requestReconnect(reason: string): void {
    for (const socket of this.sockets) {
      socket.send(
        JSON.stringify({ type: "disconnect", reason, debug_info: { host: "fake-link" } }),
      );
    }
  }

  /** Cuts every connection without a close handshake (Slack went away). */
  terminateAll(): void {
    for (const socket of this.sockets) socket.terminate();
  }

  close(): void {
    this.wss.close();
  }

  private onSocket(socket: WebSocket): void {
    this.sockets.add(socket);
    this.opened += 1;
    this.openedAt.push(Date.now());
    socket.on("close", (code) => {
      this.sockets.delete(socket);
      this.closeCodes.push(code);
    });
    socket.on("message", (data) => {
      let message: { envelope_id?: string; payload?: unknown };
      try {
        message = JSON.parse(String(data));
      } catch {
        return;
      }
      const id = message.envelope_id;
      const pending = id ? this.pendingAcks.get(id) : undefined;
      if (!id || !pending) {
        this.badAcks.push(`unknown envelope ${String(id)}`);
        return;
      }
      this.pendingAcks.delete(id);
      // Slack shows "dispatch_failed" to the person when a slash command is not acked in 3 s.
      if (Date.now() - pending.sentAt > 3000) this.badAcks.push(`late ack of ${id}`);
      pending.resolve({ payload: message.payload });
    });
    if (this.silentOnce) {
      this.silentOnce = false;
      return;
    }
    socket.send(
      JSON.stringify({
        type: "hello",
        num_connections: this.sockets.size,
        debug_info: { host: "fake-link", approximate_connection_time: 18_060 },
        connection_info: { app_id: FAKE_APP_ID },
      }),
    );
    if (this.flapping) setTimeout(() => socket.terminate(), 20);
  }
}
