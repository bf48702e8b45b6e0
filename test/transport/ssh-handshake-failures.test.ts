import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TransportConnectError } from "../../src/transport/transport.ts";
import { useSshdTransports } from "../harness/sshd-transports.ts";

const ssh = useSshdTransports();
const { transport } = ssh;

async function listen(onConnection: (socket: Socket) => void): Promise<Server> {
  const server = createServer(onConnection).listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  return server;
}

describe("an SSH handshake that cannot finish", () => {
  it("names a private key that is not a key, and the connection after a fixed key works", async () => {
    const key = join(ssh.sshd.dir, "not_a_key");
    writeFileSync(key, "this is not a private key\n", { mode: 0o600 });
    const error = await transport({ privateKey: key })
      .run("true")
      .catch((e: Error) => e);
    expect(error).toBeInstanceOf(TransportConnectError);
    expect((error as Error).message).toContain(`cannot use private key ${key}`);
    expect(String((await transport().run("echo ok")).stdout)).toBe("ok\n");
  });

  it("asks for ssh.passphrase for an encrypted key given none", async () => {
    const key = join(ssh.sshd.dir, "locked_key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "secret words", "-f", key]);
    const error = await transport({ privateKey: key })
      .run("true")
      .catch((e: Error) => e);
    expect(error).toBeInstanceOf(TransportConnectError);
    expect((error as Error).message).toContain("set ssh.passphrase");
  });

  it("fails with a connect error when the server hangs up after its banner", async () => {
    const server = await listen((socket) => socket.end("SSH-2.0-OpenSSH_9.2\r\n"));
    const port = (server.address() as { port: number }).port;
    const error = await transport({ port })
      .run("true")
      .catch((e: Error) => e);
    server.close();
    expect(error).toBeInstanceOf(TransportConnectError);
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
  });
});
