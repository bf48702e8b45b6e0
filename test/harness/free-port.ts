import { createServer } from "node:net";

/**
 * A loopback TCP port nobody listened on a moment ago (the OS picks it). Another process may
 * take it before the caller binds it: a caller that cannot tolerate that retries on failure.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
