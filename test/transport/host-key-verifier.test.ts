import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  fingerprint,
  HostKeyVerifier,
  hostMatches,
} from "../../src/transport/host-key-verifier.ts";

const dir = mkdtempSync(join(tmpdir(), "trainops-kh-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A syntactically valid ssh-ed25519 public key blob with random key bytes. */
function ed25519Blob(): Buffer {
  const type = Buffer.from("ssh-ed25519");
  const key = randomBytes(32);
  const len = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  return Buffer.concat([len(type.length), type, len(key.length), key]);
}

function knownHosts(lines: string[]): string {
  const path = join(dir, `kh-${randomBytes(4).toString("hex")}`);
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

describe("hostMatches", () => {
  it("matches plain names, lists, wildcards and negation, case-insensitively", () => {
    expect(hostMatches("vm1,10.0.0.5", "10.0.0.5")).toBe(true);
    expect(hostMatches("*.example.com", "GPU.example.com")).toBe(true);
    expect(hostMatches("10.0.0.?", "10.0.0.7")).toBe(true);
    expect(hostMatches("10.0.0.*,!10.0.0.9", "10.0.0.9")).toBe(false);
    expect(hostMatches("[10.0.0.5]:2222", "[10.0.0.5]:2222")).toBe(true);
    expect(hostMatches("10.0.0.5", "[10.0.0.5]:2222")).toBe(false);
  });

  it("matches hashed |1| entries", () => {
    const salt = randomBytes(20);
    const hash = createHmac("sha1", salt).update("[127.0.0.1]:2200").digest("base64");
    const field = `|1|${salt.toString("base64")}|${hash}`;
    expect(hostMatches(field, "[127.0.0.1]:2200")).toBe(true);
    expect(hostMatches(field, "[127.0.0.1]:2201")).toBe(false);
  });
});

describe("HostKeyVerifier", () => {
  const key = ed25519Blob();
  const b64 = key.toString("base64");

  it("accepts the listed key and refuses another with a plain message", () => {
    const path = knownHosts([`# comment`, `10.0.0.5 ssh-ed25519 ${b64}`]);
    const verifier = new HostKeyVerifier({ host: "10.0.0.5", port: 22, knownHostsPath: path });
    expect(verifier.verify(key)).toEqual({ ok: true });
    const other = ed25519Blob();
    expect(verifier.verify(other)).toEqual({
      ok: false,
      message: `Host key for 10.0.0.5:22 does not match known_hosts (expected ${fingerprint(key)}, got ${fingerprint(other)}). If the VM was rebuilt, run: ssh-keygen -R '10.0.0.5' -f '${path}'`,
    });
  });

  it("refuses a @revoked key even when also listed", () => {
    const path = knownHosts([`@revoked * ssh-ed25519 ${b64}`, `10.0.0.5 ssh-ed25519 ${b64}`]);
    const verdict = new HostKeyVerifier({
      host: "10.0.0.5",
      port: 22,
      knownHostsPath: path,
    }).verify(key);
    expect(verdict.ok).toBe(false);
    expect(verdict.ok ? "" : verdict.message).toContain("is marked @revoked");
  });

  it("offers the algorithms of the known key types first", () => {
    const path = knownHosts([`[h]:2222 ssh-rsa AAAA`]);
    const algorithms = new HostKeyVerifier({
      host: "h",
      port: 2222,
      knownHostsPath: path,
    }).preferredAlgorithms();
    expect(algorithms.slice(0, 3)).toEqual(["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]);
    expect(algorithms).toContain("ssh-ed25519");
  });

  it("looks up HostKeyAlias instead of host:port", () => {
    const path = knownHosts([`compute.123 ssh-ed25519 ${b64}`]);
    const verifier = new HostKeyVerifier({
      host: "34.1.2.3",
      port: 22,
      hostKeyAlias: "compute.123",
      knownHostsPath: path,
    });
    expect(verifier.verify(key)).toEqual({ ok: true });
  });

  it("says when the known_hosts file does not exist", () => {
    const verdict = new HostKeyVerifier({
      host: "h",
      port: 22,
      knownHostsPath: join(dir, "missing"),
    }).verify(key);
    expect(verdict.ok ? "" : verdict.message).toContain("cannot be checked: no file");
  });
});
