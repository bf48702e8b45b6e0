import { connect, createServer, type Server, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { TransportConnectError } from "../../src/transport/transport.ts";
import { useSshdTransports } from "../harness/sshd-transports.ts";

/**
 * A relay to sshd that passes the server's first bytes (its banner) at once, then holds what
 * the server says next until `release` is called: a VM that answers, then is slow to finish
 * the handshake (a loaded machine, slow to fork and sign).
 */
async function slowAfterBanner(targetPort: number) {
  const sockets = new Set<Socket>();
  const held: Array<() => void> = [];
  let released = false;
  let bannerSent: () => void = () => {};
  const banner = new Promise<void>((resolve) => {
    bannerSent = resolve;
  });
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => {});
    }
    client.pipe(upstream);
    let first = true;
    upstream.on("data", (chunk: Buffer) => {
      if (first || released) {
        first = false;
        client.write(chunk);
        bannerSent();
        return;
      }
      held.push(() => client.write(chunk));
    });
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    banner,
    release: () => {
      released = true;
      for (const write of held.splice(0)) write();
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const ssh = useSshdTransports();

describe("a VM that answers but is slow to finish the handshake", () => {
  it("is given more than the connect timeout once it has answered, and connects", async () => {
    const relay = await slowAfterBanner(ssh.sshd.port);
    const transport = ssh.transport({ ...ssh.viaPort(relay.port), connectTimeout: "1s" });
    try {
      const result = transport.run("echo ok");
      await relay.banner;
      // Hold the rest of the handshake past the 1 s connect timeout (the server did answer).
      const heldAt = Date.now();
      await new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (Date.now() - heldAt < 1500) return;
          clearInterval(check);
          resolve();
        }, 50);
      });
      relay.release();
      expect((await result).stdout.toString("utf8").trim()).toBe("ok");
    } finally {
      await transport.close();
      await relay.close();
    }
  });

  it("gives up on a VM that answered but never finishes the handshake, after 3x the connect timeout, and says so", async () => {
    const relay = await slowAfterBanner(ssh.sshd.port);
    const transport = ssh.transport({ ...ssh.viaPort(relay.port), connectTimeout: "500ms" });
    try {
      const error = await transport.run("true").catch((e: Error) => e);
      expect(error).toBeInstanceOf(TransportConnectError);
      expect((error as Error).message).toMatch(
        /the SSH handshake with 127\.0\.0\.1:\d+ did not finish within 2 s though the server answered/,
      );
    } finally {
      await transport.close();
      await relay.close();
    }
  });

  it("still gives up after the connect timeout on a VM that never answers, and says so", async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const transport = ssh.transport({
      ...ssh.viaPort((silent.address() as { port: number }).port),
      connectTimeout: "1s",
    });
    try {
      const error = await transport.run("true").catch((e: Error) => e);
      expect(error).toBeInstanceOf(TransportConnectError);
      expect((error as Error).message).toMatch(/no SSH answer from 127\.0\.0\.1:\d+ within 1 s/);
    } finally {
      await transport.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
