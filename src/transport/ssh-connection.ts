import { readFileSync } from "node:fs";
import { connect as netConnect } from "node:net";
import type { Duplex } from "node:stream";
import { HostKeyVerifier } from "./host-key-verifier.ts";
import { startIoDeadline } from "./io-deadline.ts";
import { firstExisting, type ResolvedHop, type ResolvedTarget } from "./ssh-target-resolution.ts";
import { loadSsh2Client, type Ssh2ClientClass, startSsh2Handshake } from "./ssh2-handshake.ts";
import type { Ssh2Client } from "./ssh2-types.ts";
import { TransportConnectError } from "./transport.ts";

/** Socket options for {@link openSshConnection}. */
export interface ConnectOptions {
  /** TCP_NODELAY on our own socket: ~2 ms per exec instead of ~45 ms with Nagle. */
  noDelay: boolean;
}

/**
 * Once the VM has answered, its handshake may take this many connect timeouts more: a loaded
 * VM is slow to sign and fork, not down.
 */
export const SLOW_HANDSHAKE_FACTOR = 2;

/** An authenticated connection (and the jump host's, when there is one). */
export interface SshConnection {
  client: Ssh2Client;
  jumpClient?: Ssh2Client;
}

/** Opens the connection to a resolved target, through its jump host if it has one. */
export async function openSshConnection(
  resolved: ResolvedTarget,
  options: ConnectOptions,
): Promise<SshConnection> {
  const deadline = Date.now() + resolved.connectTimeoutMs;
  // ssh2 loads on the first connection, not with the CLI: commands that only read the store
  // never pay for it. It loads before any socket exists: a socket must not sit without its
  // handler (a refused connect) while a module loads.
  const Client = loadSsh2Client();
  if (!resolved.jump) {
    const socket = tcpSocket(resolved.target, options);
    const client = await handshake(Client, resolved.target, socket, resolved, deadline);
    return { client };
  }
  const jumpClient = await handshake(
    Client,
    resolved.jump,
    tcpSocket(resolved.jump, options),
    resolved,
    deadline,
  );
  try {
    const stream = await new Promise<Duplex>((resolve, reject) => {
      jumpClient.forwardOut("127.0.0.1", 0, resolved.target.host, resolved.target.port, (e, ch) =>
        e ? reject(e) : resolve(ch),
      );
    });
    const client = await handshake(Client, resolved.target, stream, resolved, deadline);
    // The target's connection lives inside the jump's: when the jump drops, so does it.
    jumpClient.on("close", () => client.destroy());
    client.on("close", () => jumpClient.end());
    return { client, jumpClient };
  } catch (error) {
    jumpClient.end();
    if (error instanceof TransportConnectError) throw error;
    throw new TransportConnectError(
      `jump host ${hopName(resolved.jump)} could not reach ${hopName(resolved.target)}: ${(error as Error).message}`,
    );
  }
}

function tcpSocket(hop: ResolvedHop, options: ConnectOptions): Duplex {
  const socket = netConnect({ host: hop.host, port: hop.port });
  socket.setNoDelay(options.noDelay);
  return socket;
}

/** `user@host:port` */
export function hopName(hop: ResolvedHop): string {
  return `${hop.user}@${hop.host}:${hop.port}`;
}

async function handshake(
  Client: Ssh2ClientClass,
  hop: ResolvedHop,
  sock: Duplex,
  resolved: ResolvedTarget,
  deadline: number,
): Promise<Ssh2Client> {
  const verifier = new HostKeyVerifier({
    host: hop.host,
    port: hop.port,
    hostKeyAlias: hop.hostKeyAlias,
    fingerprint: hop.hostKey,
    knownHostsPath: hop.knownHostsPath,
  });
  let refusal: string | undefined;
  const keyFile = firstExisting(hop.identityFiles);
  let privateKey: string | undefined;
  if (keyFile) {
    try {
      privateKey = readFileSync(keyFile, "utf8");
    } catch (error) {
      sock.destroy();
      throw new TransportConnectError(
        `cannot read private key ${keyFile}: ${(error as Error).message}`,
      );
    }
  }
  const agent = process.env.SSH_AUTH_SOCK;
  if (!privateKey && !agent) {
    sock.destroy();
    throw new TransportConnectError(
      `no private key for ${hopName(hop)}: none of ${hop.identityFiles.join(", ")} exists and no ssh-agent runs — set ssh.privateKey`,
    );
  }
  // The connect timeout is for the VM's first answer (TCP and its SSH banner): silence means
  // it is down or its sshd hangs. A VM that answered is alive; its handshake (key exchange,
  // signatures, authentication: CPU work on a busy VM) gets SLOW_HANDSHAKE_FACTOR times as
  // long again, instead of being cut off, retried from scratch, and costing it more CPU.
  const answerMs = Math.max(1, deadline - Date.now());
  const handshakeMs = answerMs + SLOW_HANDSHAKE_FACTOR * resolved.connectTimeoutMs;
  let answered = false;
  const { client, ready } = startSsh2Handshake(Client, {
    sock,
    username: hop.user,
    privateKey,
    passphrase: resolved.passphrase,
    agent,
    // Our own deadlines below, not ssh2's timer: they take an answer that came in time even
    // when the daemon was too busy to read it then (see startIoDeadline).
    readyTimeout: handshakeMs + 60_000,
    keepaliveInterval: resolved.keepaliveIntervalMs,
    keepaliveCountMax: 3,
    algorithms: { serverHostKey: verifier.preferredAlgorithms() },
    hostVerifier: (key: Buffer) => {
      const verdict = verifier.verify(key);
      if (!verdict.ok) refusal = verdict.message;
      return verdict.ok;
    },
  });
  // ssh2 pauses the socket until it is ready to parse: a listener now sees every byte without
  // starting the flow early. (Should it not be paused, the whole ready timeout applies.)
  if ((sock as Duplex).readableFlowing === false) {
    sock.once("data", () => {
      answered = true;
    });
  } else {
    answered = true;
  }
  const timedOut = (message: string) => {
    const error = new Error(message) as Error & { code?: string };
    error.code = "ETIMEDOUT";
    sock.destroy(error);
  };
  const silence = startIoDeadline(answerMs, () => {
    if (!answered) timedOut("timed out waiting for the server's first bytes");
  });
  const slow = startIoDeadline(handshakeMs, () => timedOut("timed out during the handshake"));
  try {
    await ready;
  } catch (error) {
    sock.destroy();
    client.end();
    if (refusal) throw new TransportConnectError(refusal);
    throw new TransportConnectError(
      explainConnectError(error as Error, hop, keyFile, resolved.connectTimeoutMs, answered),
    );
  } finally {
    silence.clear();
    slow.clear();
  }
  return client;
}

function explainConnectError(
  error: Error & { code?: string; level?: string },
  hop: ResolvedHop,
  keyFile: string | undefined,
  timeoutMs: number,
  answered: boolean,
): string {
  const where = `${hop.host}:${hop.port}`;
  const message = error.message ?? String(error);
  if (error.code === "ECONNREFUSED") {
    return `cannot connect to ${where}: connection refused — is sshd running there and the port right?`;
  }
  if (error.code === "ENOTFOUND" || error.code === "EAI_AGAIN") {
    return `cannot resolve host name ${hop.host} — check ssh.host (or HostName in ~/.ssh/config)`;
  }
  if (error.code === "EHOSTUNREACH" || error.code === "ENETUNREACH") {
    return `cannot reach ${where}: no route to host — is the VM up and the address right?`;
  }
  if (answered && /timed out|ETIMEDOUT/i.test(`${message} ${error.code ?? ""}`)) {
    const limitS = Math.round(((1 + SLOW_HANDSHAKE_FACTOR) * timeoutMs) / 1000);
    return `the SSH handshake with ${where} did not finish within ${limitS} s though the server answered (${1 + SLOW_HANDSHAKE_FACTOR}x ssh.connectTimeout) — is the VM overloaded?`;
  }
  if (/timed out|ETIMEDOUT|No response/i.test(`${message} ${error.code ?? ""}`)) {
    return `no SSH answer from ${where} within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`} (ssh.connectTimeout) — is the VM up and reachable?`;
  }
  if (/authentication methods failed/i.test(message)) {
    return `${hopName(hop)} refused the key ${keyFile ?? "(ssh-agent)"} — add its public key to ~/.ssh/authorized_keys of ${hop.user} on the VM, or set ssh.user / ssh.privateKey`;
  }
  if (/passphrase|Encrypted private key|Cannot parse privateKey/i.test(message)) {
    return `cannot use private key ${keyFile}: ${message} — if it is encrypted, set ssh.passphrase: \${SSH_KEY_PASSPHRASE}`;
  }
  return `cannot connect to ${where}: ${message}`;
}
