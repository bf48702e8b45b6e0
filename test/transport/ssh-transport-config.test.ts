import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunConfig } from "../../src/config/schema.ts";
import { createTransport } from "../../src/transport/create-transport.ts";
import { LocalTransport } from "../../src/transport/local-transport.ts";
import { SshTransport } from "../../src/transport/ssh-transport.ts";
import { type SshdHarness, startSshd } from "../harness/sshd.ts";

let sshd: SshdHarness;
beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
});

describe("SshTransport with ~/.ssh/config", () => {
  it("connects through an alias with a ProxyJump hop (one connection to the jump, one tunnelled)", async () => {
    const configPath = join(sshd.dir, "ssh_config");
    writeFileSync(
      configPath,
      [
        "Host vm",
        "  HostName 127.0.0.1",
        `  Port ${sshd.port}`,
        `  User ${sshd.user}`,
        `  IdentityFile ${sshd.privateKeyPath}`,
        "  ProxyJump jumpbox",
        "Host jumpbox",
        "  HostName 127.0.0.1",
        `  Port ${sshd.port}`,
        `  IdentityFile ${sshd.privateKeyPath}`,
        "",
      ].join("\n"),
    );
    const before = sshd.connectionCount();
    const t = new SshTransport(
      {
        host: "vm",
        sshConfig: configPath,
        knownHosts: sshd.knownHostsPath,
        connectTimeout: "5s",
        execTimeout: "10s",
        keepaliveInterval: "15s",
      },
      { home: sshd.dir },
    );
    try {
      const result = await t.run("echo through; echo $SSH_CONNECTION");
      expect(result.stdout.toString()).toMatch(/^through\n127\.0\.0\.1 \d+ 127\.0\.0\.1 \d+\n$/);
      expect(sshd.connectionCount()).toBe(before + 2);
      expect(t.resolvedDescription()).toBe(`${sshd.user}@127.0.0.1:${sshd.port}`);
    } finally {
      await t.close();
    }
  });
});

describe("createTransport", () => {
  const run = (ssh: RunConfig["ssh"]) =>
    ({ name: "r", ssh, workdir: "/w", log: "l" }) as unknown as RunConfig;

  it("returns a LocalTransport for ssh: local and an SshTransport otherwise", async () => {
    expect(createTransport(run("local"))).toBeInstanceOf(LocalTransport);
    const ssh = createTransport(run(sshd.runConfigSsh()), { home: sshd.dir });
    expect(ssh).toBeInstanceOf(SshTransport);
    expect(ssh.description).toBe(`${sshd.user}@127.0.0.1:${sshd.port}`);
    expect((await ssh.run("echo hi")).stdout.toString()).toBe("hi\n");
    await ssh.close();
  });
});
