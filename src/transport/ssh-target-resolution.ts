import { existsSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import { join } from "node:path";
import type { SshTarget } from "../config/schema.ts";
import { parseDuration } from "../core/duration.ts";
import { expandPath, parseJumpSpec, resolveSshConfig } from "./ssh-config-resolver.ts";
import { TransportConnectError } from "./transport.ts";

/** One hop's connection settings after ~/.ssh/config and defaults are applied. */
export interface ResolvedHop {
  host: string;
  port: number;
  user: string;
  /** Key files to offer, in order (the first that exists is used). */
  identityFiles: string[];
  knownHostsPath: string;
  hostKeyAlias?: string;
  /** Pinned `SHA256:…` fingerprint (the run's ssh.hostKey; target hop only). */
  hostKey?: string;
}

/** Everything needed to open the connection to a run's VM. */
export interface ResolvedTarget {
  target: ResolvedHop;
  jump?: ResolvedHop;
  passphrase?: string;
  connectTimeoutMs: number;
  execTimeoutMs: number;
  keepaliveIntervalMs: number;
}

const DEFAULT_KEYS = ["id_ed25519", "id_ecdsa", "id_rsa"];

/**
 * Applies ~/.ssh/config (HostName, User, Port, IdentityFile, ProxyJump, UserKnownHostsFile,
 * HostKeyAlias) under the run's own settings: what trainops.yaml says wins, as options on
 * the ssh command line do.
 */
export function resolveTarget(
  ssh: SshTarget,
  context: { home?: string; localUser?: string } = {},
): ResolvedTarget {
  const home = context.home ?? homedir();
  const localUser = context.localUser ?? userInfo().username;
  const configPath = ssh.sshConfig ? expandPath(ssh.sshConfig, home) : join(home, ".ssh", "config");
  const defaultKnownHosts = join(home, ".ssh", "known_hosts");

  const hop = (alias: string, own: Partial<ResolvedHop>, ownKey?: string): ResolvedHop => {
    const entry = resolveSshConfig(configPath, alias, { home, localUser });
    const defaults = DEFAULT_KEYS.map((name) => join(home, ".ssh", name));
    const identityFiles = ownKey
      ? [expandPath(ownKey, home)]
      : [...entry.identityFiles, ...defaults].filter((file, i, all) => all.indexOf(file) === i);
    return {
      host: entry.hostName ?? alias,
      port: own.port ?? entry.port ?? 22,
      user: own.user ?? entry.user ?? localUser,
      identityFiles,
      knownHostsPath: own.knownHostsPath ?? entry.userKnownHostsFile ?? defaultKnownHosts,
      hostKeyAlias: entry.hostKeyAlias,
    };
  };

  const entry = resolveSshConfig(configPath, ssh.host, { home, localUser });
  if (entry.proxyCommand && !entry.proxyJump) {
    throw new TransportConnectError(
      `${configPath} sets ProxyCommand for ${ssh.host}, which trainops cannot run; use ProxyJump there instead`,
    );
  }
  const target = hop(
    ssh.host,
    {
      port: ssh.port,
      user: ssh.user,
      knownHostsPath: ssh.knownHosts ? expandPath(ssh.knownHosts, home) : undefined,
    },
    ssh.privateKey,
  );
  if (ssh.hostKey) target.hostKey = ssh.hostKey;

  let jump: ResolvedHop | undefined;
  if (entry.proxyJump) {
    if (entry.proxyJump.includes(",")) {
      throw new TransportConnectError(
        `ProxyJump ${entry.proxyJump} for ${ssh.host} has several hops; trainops supports one`,
      );
    }
    const spec = parseJumpSpec(entry.proxyJump);
    jump = hop(spec.host, {
      port: spec.port,
      user: spec.user,
      knownHostsPath: ssh.knownHosts ? expandPath(ssh.knownHosts, home) : undefined,
    });
    // The run's key is the likeliest to open the jump host too when ssh config names none.
    if (ssh.privateKey) jump.identityFiles.push(expandPath(ssh.privateKey, home));
  }
  return {
    target,
    jump,
    passphrase: ssh.passphrase,
    connectTimeoutMs: parseDuration(ssh.connectTimeout),
    execTimeoutMs: parseDuration(ssh.execTimeout),
    keepaliveIntervalMs: parseDuration(ssh.keepaliveInterval),
  };
}

/** The first identity file that exists, or undefined. */
export function firstExisting(files: readonly string[]): string | undefined {
  return files.find((file) => existsSync(file));
}
