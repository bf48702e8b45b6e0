import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface HttpEndpointOptions {
  host: string;
  port: number;
  registry: Registry;
  /** Liveness: null when healthy, else what is wrong (answered with 503). */
  health: () => string | null;
}

/** A started `/healthz` + `/metrics` server. */
export interface HttpEndpoint {
  /** The bound port (useful with port 0). */
  readonly port: number;
  close(): Promise<void>;
}

/** Serves `/healthz` and `/metrics` (Prometheus text format) on loopback unless told otherwise. */
export async function startHttpEndpoint(options: HttpEndpointOptions): Promise<HttpEndpoint> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/healthz") {
      const problem = options.health();
      response
        .writeHead(problem === null ? 200 : 503, { "content-type": "text/plain; charset=utf-8" })
        .end(problem === null ? "ok\n" : `${problem}\n`);
      return;
    }
    if (path === "/metrics") {
      options.registry.metrics().then(
        (text) => {
          response.writeHead(200, { "content-type": options.registry.contentType }).end(text);
        },
        (error: Error) => {
          response.writeHead(500, { "content-type": "text/plain" }).end(`${error.message}\n`);
        },
      );
      return;
    }
    response
      .writeHead(404, { "content-type": "text/plain" })
      .end("not found: try /healthz or /metrics\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
