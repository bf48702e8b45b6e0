import { connect, createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TransportConnectError } from "../../src/transport/transport.ts";
import { useSshdTransports } from "../harness/sshd-transports.ts";

/** A TCP relay to sshd that can go silent, like a network partition or a frozen VM. */
class FreezableRelay {
  frozen = false;
  private readonly sockets = new Set<Socket>();
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<FreezableRelay> {
    let relay: FreezableRelay | undefined;
    const server = createServer((client) => {
      const upstream = connect(targetPort, "127.0.0.1");
      for (const socket of [client, upstream]) {
        relay?.sockets.add(socket);
        socket.on("error", () => {});
        socket.on("close", () => relay?.sockets.delete(socket));
      }
      client.on("data", (chunk) => {
        if (!relay?.frozen) upstream.write(chunk);
      });
      upstream.on("data", (chunk) => {
        if (!relay?.frozen) client.write(chunk);
      });
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    relay = new FreezableRelay(server, (server.address() as { port: number }).port);
    return relay;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const ssh = useSshdTransports();
let relay: FreezableRelay;
beforeAll(async () => {
  relay = await FreezableRelay.start(ssh.sshd.port);
});
afterAll(async () => {
  await relay?.stop();
});

describe("a connection that goes silent", () => {
  it("is detected by keepalive, fails the running script, and the next call reconnects", async () => {
    // Known hosts lists the server under its real port; the relay's port needs a pinned key.
    const t = ssh.transport(
      { ...ssh.viaPort(relay.port), keepaliveInterval: "200ms" },
      { backoff: { initialMs: 10, maxMs: 10 } },
    );
    try {
      expect((await t.run("echo before")).stdout.toString()).toBe("before\n");
      relay.frozen = true;
      const error = await t.run("echo during", { timeoutMs: 10_000 }).catch((e: Error) => e);
      expect(error).toBeInstanceOf(TransportConnectError);
      expect((error as Error).message).toMatch(/lost: Keepalive timeout/);
      relay.frozen = false;
      expect((await t.run("echo after")).stdout.toString()).toBe("after\n");
      expect(t.connectCount).toBe(2);
    } finally {
      await t.close();
    }
  });
});
