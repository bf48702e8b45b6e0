import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { DiscordWebhookSink } from "../../src/platforms/discord/discord-webhook-sink.ts";
import { waitUntil } from "../harness/wait.ts";

/** fetch's (undici's) event for a response read to its end: its socket is free again. */
const RESPONSE_COMPLETE = "undici:request:trailers";

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
    let completed = 0;
    const onComplete = () => {
      completed += 1;
    };
    subscribe(RESPONSE_COMPLETE, onComplete);
    try {
      for (let i = 0; i < 5; i++) {
        const result = await sink.deliver(
          { severity: "critical", title: `exp001: CUDA out of memory (${i})` },
          `key-${i}`,
        );
        expect(result).toEqual({ ok: true });
        // The body drains in the background while the next alert is yet to come (alerts are
        // never back to back within milliseconds). Barrier: fetch has read it to its end, so
        // the socket is back in fetch's pool, however long the drain took.
        await waitUntil(() => completed === i + 1, {
          what: `the body of answer ${i + 1} to be read`,
          intervalMs: 5,
        });
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      unsubscribe(RESPONSE_COMPLETE, onComplete);
    }
    expect(requests).toBe(5);
    expect(connections).toBe(1);
  });
});
