import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { DiscordWebhookSink } from "../../src/platforms/discord/discord-webhook-sink.ts";

let server: Server | null = null;
afterEach(async () => {
  server?.closeAllConnections();
  server?.close();
  server = null;
});

describe("webhook delivery", () => {
  it("reuses one keep-alive connection for alert after alert", async () => {
    let connections = 0;
    let requests = 0;
    server = createServer((req, res) => {
      requests += 1;
      req.resume();
      req.on("end", () => {
        // Discord answers ?wait=true with the created message: a body the sender does not wait
        // for. Big enough not to arrive with the headers, so a cancelled body closes the socket.
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ id: String(requests), content: "x".repeat(64 * 1024) }));
      });
    });
    server.keepAliveTimeout = 30_000;
    server.on("connection", () => {
      connections += 1;
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const sink = new DiscordWebhookSink(
      "discord-webhook:0",
      `http://127.0.0.1:${port}/api/webhooks/1/t`,
    );
    for (let i = 0; i < 5; i++) {
      const result = await sink.deliver(
        { severity: "critical", title: `exp001: CUDA out of memory (${i})` },
        `key-${i}`,
      );
      expect(result).toEqual({ ok: true });
      // The body drains in the background while the next alert is yet to come (alerts are
      // never back to back within milliseconds); then the socket is back in fetch's pool.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(requests).toBe(5);
    expect(connections).toBe(1);
  });
});
