import { type Client, Events } from "discord.js";
import { type DiscordLog, errorDetails } from "./discord-log.ts";

interface RawPacket {
  t?: string | null;
  d?: Record<string, unknown> | null;
}

/** Keeps role ids of at most this many recent interactions (one is taken per interaction). */
const MAX_PENDING_ROLES = 500;

/**
 * Shields the process from malformed gateway events and reads interaction roles as sent.
 *
 * discord.js handles a dispatch synchronously inside the WebSocket message handler; an event it
 * cannot parse (an INTERACTION_CREATE without `entitlements`, without `user` and `member`, …)
 * throws there, becomes an unhandled rejection and ends the process. Two layers prevent that:
 * known-optional fields are filled in before discord.js reads the packet, and the client's
 * packet handler is wrapped so anything else is logged and dropped.
 */
export class GatewayGuard {
  private readonly roles = new Map<string, string[]>();

  constructor(
    private readonly client: Client,
    private readonly log: DiscordLog,
  ) {}

  install(): void {
    // `raw` is emitted before discord.js parses the packet, with the same object.
    this.client.on(Events.Raw, (packet: RawPacket) => {
      try {
        this.prepare(packet);
      } catch (error) {
        this.log.warn(errorDetails(error), "discord: could not inspect a gateway event");
      }
    });
    const ws = this.client.ws as unknown as {
      handlePacket?: (packet: unknown, shard: unknown) => boolean;
    };
    const original = ws.handlePacket;
    if (typeof original !== "function") {
      this.log.warn({}, "discord: cannot guard gateway events (discord.js internals changed)");
      return;
    }
    ws.handlePacket = (packet: unknown, shard: unknown): boolean => {
      try {
        return original.call(ws, packet, shard);
      } catch (error) {
        this.log.error(
          { ...errorDetails(error), event: (packet as RawPacket | null)?.t ?? null },
          "discord: dropped a gateway event discord.js could not handle",
        );
        return true;
      }
    };
  }

  /** The role ids Discord listed for the member behind an interaction (once). */
  takeRoles(interactionId: string): string[] | undefined {
    const roles = this.roles.get(interactionId);
    this.roles.delete(interactionId);
    return roles;
  }

  private prepare(packet: RawPacket): void {
    if (packet?.t !== "INTERACTION_CREATE" || !packet.d || typeof packet.d !== "object") return;
    const d = packet.d;
    if (!Array.isArray(d.entitlements)) d.entitlements = [];
    if (!d.authorizing_integration_owners || typeof d.authorizing_integration_owners !== "object") {
      d.authorizing_integration_owners = {};
    }
    const member = d.member as { roles?: unknown } | undefined;
    if (typeof d.id === "string" && Array.isArray(member?.roles)) {
      this.roles.set(
        d.id,
        member.roles.filter((r): r is string => typeof r === "string"),
      );
      if (this.roles.size > MAX_PENDING_ROLES) {
        const oldest = this.roles.keys().next().value;
        if (oldest !== undefined) this.roles.delete(oldest);
      }
    }
  }
}
