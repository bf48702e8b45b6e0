import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseJumpSpec, resolveSshConfig } from "../../src/transport/ssh-config-resolver.ts";
import { resolveTarget } from "../../src/transport/ssh-target-resolution.ts";
import { TransportConnectError } from "../../src/transport/transport.ts";

const home = mkdtempSync(join(tmpdir(), "trainops-sshcfg-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));
mkdirSync(join(home, ".ssh", "conf.d"), { recursive: true });
const config = join(home, ".ssh", "config");
writeFileSync(
  config,
  [
    "# gcloud compute config-ssh style",
    "Include conf.d/*.conf",
    "Host gpu-vm",
    "  HostName 34.1.2.3",
    "  IdentityFile ~/.ssh/google_compute_engine",
    "  UserKnownHostsFile=~/.ssh/google_compute_known_hosts",
    "  HostKeyAlias compute.1234567",
    "Match host *",
    "  User matched",
    "Host behind",
    "  HostName 10.128.0.7",
    "  ProxyJump dylant@bastion:2200",
    "Host twohops",
    "  ProxyJump a,b",
    "Host tunnel",
    "  ProxyCommand gcloud compute start-iap-tunnel %h %p",
    "Host *",
    "  User dylant",
    "  Port 22",
    "  IdentityFile ~/.ssh/id_%r",
    "",
  ].join("\n"),
);
writeFileSync(
  join(home, ".ssh", "conf.d", "extra.conf"),
  "Host gpu-vm\n  Port 2222\n  User first\n",
);
const context = { home, localUser: "me" };

describe("resolveSshConfig", () => {
  it("applies matching blocks in order, first value wins, IdentityFile accumulates", () => {
    const entry = resolveSshConfig(config, "gpu-vm", context);
    expect(entry).toEqual({
      hostName: "34.1.2.3",
      port: 2222,
      user: "first",
      identityFiles: [join(home, ".ssh/google_compute_engine"), join(home, ".ssh/id_first")],
      userKnownHostsFile: join(home, ".ssh/google_compute_known_hosts"),
      hostKeyAlias: "compute.1234567",
    });
  });

  it("uses the alias itself as host name when none is set, and skips Match blocks", () => {
    const entry = resolveSshConfig(config, "10.0.0.5", context);
    expect(entry.hostName).toBe("10.0.0.5");
    expect(entry.user).toBe("dylant");
  });

  it("parses jump specs", () => {
    expect(parseJumpSpec("dylant@bastion:2200")).toEqual({
      user: "dylant",
      host: "bastion",
      port: 2200,
    });
    expect(parseJumpSpec("[::1]:22")).toEqual({ user: undefined, host: "::1", port: 22 });
    expect(parseJumpSpec("jump")).toEqual({ user: undefined, host: "jump" });
  });
});

describe("resolveTarget", () => {
  const base = { connectTimeout: "5s", execTimeout: "30s", keepaliveInterval: "15s" };

  it("lets trainops.yaml win over ~/.ssh/config and resolves the jump host", () => {
    const resolved = resolveTarget({ ...base, host: "behind", user: "root", port: 2022 }, context);
    expect(resolved.target).toMatchObject({ host: "10.128.0.7", port: 2022, user: "root" });
    expect(resolved.jump).toMatchObject({ host: "bastion", port: 2200, user: "dylant" });
    expect(resolved.connectTimeoutMs).toBe(5000);
  });

  it("refuses more than one hop and ProxyCommand, saying what to do", () => {
    expect(() => resolveTarget({ ...base, host: "twohops" }, context)).toThrow(
      TransportConnectError,
    );
    expect(() => resolveTarget({ ...base, host: "twohops" }, context)).toThrow(
      /trainops supports one/,
    );
    expect(() => resolveTarget({ ...base, host: "tunnel" }, context)).toThrow(
      /use ProxyJump there instead/,
    );
  });
});
