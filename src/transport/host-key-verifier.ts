import { createHash, createHmac } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";

/** Host-key algorithms ssh2 can verify, in OpenSSH's order of preference. */
const ALGORITHMS_BY_KEY_TYPE: Record<string, string[]> = {
  "ssh-ed25519": ["ssh-ed25519"],
  "ecdsa-sha2-nistp256": ["ecdsa-sha2-nistp256"],
  "ecdsa-sha2-nistp384": ["ecdsa-sha2-nistp384"],
  "ecdsa-sha2-nistp521": ["ecdsa-sha2-nistp521"],
  "ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
};
const ALL_ALGORITHMS = Object.values(ALGORITHMS_BY_KEY_TYPE).flat();

/** `SHA256:…` fingerprint of a public key blob, as `ssh-keygen -lf` prints it. */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

/** The key type named inside an SSH public key blob (`ssh-ed25519`, …). */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return "unknown";
  const length = keyBlob.readUInt32BE(0);
  return keyBlob.subarray(4, 4 + length).toString("latin1");
}

/** Where the host is looked up and which key it must present. */
export interface HostKeyPolicy {
  /** Host as the user named it after alias resolution (for messages and ssh-keygen -R). */
  host: string;
  port: number;
  /** Name to look up in known_hosts instead of host:port (ssh_config HostKeyAlias). */
  hostKeyAlias?: string;
  /** Expected `SHA256:…` fingerprint; wins over knownHostsPath. */
  fingerprint?: string;
  knownHostsPath: string;
}

/** The outcome of checking one presented host key. */
export type HostKeyVerdict = { ok: true } | { ok: false; message: string };

interface KnownHostEntry {
  marker: "" | "@revoked" | "@cert-authority";
  patterns: string;
  keyType: string;
  keyBase64: string;
}

/**
 * Verifies the key a server presents against a pinned fingerprint or a known_hosts file
 * (plain and hashed `|1|` names, `[host]:port`, wildcards, negation, `@revoked`). There is no
 * trust-on-first-use: an unknown key is refused like a wrong one.
 */
export class HostKeyVerifier {
  private readonly entries: KnownHostEntry[];
  private readonly lookupName: string;

  constructor(private readonly policy: HostKeyPolicy) {
    this.lookupName =
      policy.hostKeyAlias ?? (policy.port === 22 ? policy.host : `[${policy.host}]:${policy.port}`);
    this.entries = policy.fingerprint ? [] : readKnownHosts(policy.knownHostsPath);
  }

  /**
   * Host-key algorithms in the order to offer them: the types known for this host first, so a
   * server with several keys presents the one we can check (as OpenSSH's client does).
   */
  preferredAlgorithms(): string[] {
    const known = this.matchingEntries()
      .filter((entry) => entry.marker === "")
      .flatMap((entry) => ALGORITHMS_BY_KEY_TYPE[entry.keyType] ?? []);
    return [...new Set([...known, ...ALL_ALGORITHMS])];
  }

  /** Checks the raw public key blob the server presented. */
  verify(keyBlob: Buffer): HostKeyVerdict {
    const got = fingerprint(keyBlob);
    const where = `${this.policy.host}:${this.policy.port}`;
    if (this.policy.fingerprint) {
      const expected = this.policy.fingerprint.replace(/=+$/, "");
      if (got === expected) return { ok: true };
      return {
        ok: false,
        message: `Host key for ${where} does not match ssh.hostKey (expected ${expected}, got ${got}). If the VM was rebuilt, check the new key (ssh-keyscan -p ${this.policy.port} ${this.policy.host} | ssh-keygen -lf -) and update ssh.hostKey.`,
      };
    }
    const blob = keyBlob.toString("base64");
    const type = keyTypeOf(keyBlob);
    const matching = this.matchingEntries();
    if (matching.some((entry) => entry.marker === "@revoked" && entry.keyBase64 === blob)) {
      return {
        ok: false,
        message: `Host key for ${where} (${got}) is marked @revoked in ${this.policy.knownHostsPath}; refusing to connect.`,
      };
    }
    const plain = matching.filter((entry) => entry.marker === "");
    if (plain.some((entry) => entry.keyBase64 === blob)) return { ok: true };
    const other = plain.find((entry) => entry.keyType === type) ?? plain[0];
    if (other) {
      const expected = fingerprint(Buffer.from(other.keyBase64, "base64"));
      return {
        ok: false,
        message: `Host key for ${where} does not match known_hosts (expected ${expected}, got ${got}). If the VM was rebuilt, run: ssh-keygen -R '${this.lookupName}'${this.fileFlag()}`,
      };
    }
    const missing = existsSync(this.policy.knownHostsPath)
      ? "is not in"
      : "cannot be checked: no file";
    return {
      ok: false,
      message: `Host key for ${where} ${missing} ${this.policy.knownHostsPath} (the server presented ${got}). Check that fingerprint with the VM's owner, then add it: ssh-keyscan -p ${this.policy.port} ${this.policy.host} >> ${this.policy.knownHostsPath} (or set ssh.hostKey: "${got}").`,
    };
  }

  private fileFlag(): string {
    return this.policy.knownHostsPath.endsWith("/.ssh/known_hosts")
      ? ""
      : ` -f '${this.policy.knownHostsPath}'`;
  }

  private matchingEntries(): KnownHostEntry[] {
    return this.entries.filter((entry) => hostMatches(entry.patterns, this.lookupName));
  }
}

function readKnownHosts(path: string): KnownHostEntry[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  const entries: KnownHostEntry[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry["marker"] = "";
    if (fields[0] === "@revoked" || fields[0] === "@cert-authority")
      marker = fields.shift() as typeof marker;
    const [patterns, keyType, keyBase64] = fields;
    if (!patterns || !keyType || !keyBase64) continue;
    entries.push({ marker, patterns, keyType, keyBase64 });
  }
  return entries;
}

/** known_hosts host field: `|1|salt|hash`, or a comma list of patterns with `*`, `?`, `!`. */
export function hostMatches(patterns: string, name: string): boolean {
  if (patterns.startsWith("|1|")) {
    const [, , salt, hash] = patterns.split("|");
    if (!salt || !hash) return false;
    const digest = createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64");
    return digest === hash;
  }
  let matched = false;
  for (const pattern of patterns.split(",")) {
    const negated = pattern.startsWith("!");
    if (globMatch(negated ? pattern.slice(1) : pattern, name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** OpenSSH-style pattern: `*` any run, `?` one character, case-insensitive. */
export function globMatch(pattern: string, text: string): boolean {
  const source = pattern
    .toLowerCase()
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${source}$`).test(text.toLowerCase());
}
