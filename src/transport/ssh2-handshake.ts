import { createRequire } from "node:module";
import type { Duplex } from "node:stream";
import type { Ssh2Client } from "./ssh2-types.ts";

/** The ssh2 client options trainops passes (ssh2 ships no type declarations here). */
export interface Ssh2ConnectConfig {
  /** The stream to speak SSH over: our TCP socket, or a channel through a jump host. */
  sock: Duplex;
  username: string;
  privateKey?: string | undefined;
  passphrase?: string | undefined;
  /** ssh-agent socket path. */
  agent?: string | undefined;
  readyTimeout: number;
  keepaliveInterval: number;
  keepaliveCountMax: number;
  algorithms: { serverHostKey: string[] };
  hostVerifier: (key: Buffer) => boolean;
}

/** ssh2's `Client` class, as trainops uses it. */
export interface Ssh2ClientClass {
  new (): Ssh2Client & { connect(config: Ssh2ConnectConfig): void };
}

// ssh2 is CommonJS, loaded through require: an ESM import() of it costs a one-shot command
// tens of milliseconds more CPU (Node then lexes it for named exports and loads each of its
// files through the ESM loader), and trainops needs only its default export.
const require = createRequire(import.meta.url);

/**
 * ssh2's client class, loaded on the first connection rather than with the CLI: commands that
 * only read the store never pay for it. The client module alone: ssh2's index also loads its
 * server, key generator and HTTP agents (and with them Node's http, https and tls), which a
 * client never uses. ssh2 is pinned to an exact version, so this path is fixed.
 */
export function loadSsh2Client(): Ssh2ClientClass {
  return require("ssh2/lib/client.js") as Ssh2ClientClass;
}

/**
 * Starts an ssh2 client's handshake over `config.sock`. `ready` resolves once the server has
 * authenticated us and rejects with the client's error, or with an ETIMEDOUT "No response from
 * server" when the connection closes first. The client is returned at once so a caller can end
 * it whichever way the handshake goes.
 */
export function startSsh2Handshake(
  Client: Ssh2ClientClass,
  config: Ssh2ConnectConfig,
): { client: Ssh2Client; ready: Promise<void> } {
  const client = new Client();
  const ready = new Promise<void>((resolve, reject) => {
    // Until ready, an error or a close rejects. A failed handshake keeps these listeners: the
    // abandoned client may still emit an error, which must not become an uncaught one.
    const onError = (error: Error): void => reject(error);
    const onClose = (): void =>
      reject(Object.assign(new Error("No response from server"), { code: "ETIMEDOUT" }));
    client.on("error", onError);
    client.on("close", onClose);
    client.once("ready", () => {
      // From here the connection's owner listens for its errors and its close.
      client.off("error", onError);
      client.off("close", onClose);
      resolve();
    });
    // connect() throws on options it cannot use (a private key it cannot parse): a rejection.
    client.connect(config);
  });
  return { client, ready };
}
