import { readdirSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { globMatch } from "./host-key-verifier.ts";

/** What `~/.ssh/config` says about one host alias (only the keys trainops honours). */
export interface SshConfigEntry {
  hostName?: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  /** `[user@]host[:port]` of the one jump host, if any. */
  proxyJump?: string;
  userKnownHostsFile?: string;
  hostKeyAlias?: string;
  /** Set when the file uses ProxyCommand, which trainops cannot run. */
  proxyCommand?: string;
}

/** Keys honoured; any other key is ignored, as unknown to trainops' connection model. */
const KEYS = new Set([
  "hostname",
  "user",
  "port",
  "identityfile",
  "proxyjump",
  "userknownhostsfile",
  "hostkeyalias",
  "proxycommand",
]);

interface Line {
  key: string;
  value: string;
}

/**
 * Resolves a host alias the way `ssh` reads its config: blocks apply when a `Host` pattern
 * matches the alias, the first value of a key wins, IdentityFile accumulates. `Match` blocks are
 * not evaluated (skipped). `Include` of files and `*` globs is followed.
 */
export function resolveSshConfig(
  path: string,
  alias: string,
  context: { home: string; localUser: string },
): SshConfigEntry {
  const entry: SshConfigEntry = { identityFiles: [] };
  const set = new Set<string>();
  const apply = (line: Line) => {
    if (line.key === "identityfile") {
      entry.identityFiles.push(line.value);
      return;
    }
    if (set.has(line.key)) return;
    set.add(line.key);
    switch (line.key) {
      case "hostname":
        entry.hostName = line.value;
        break;
      case "user":
        entry.user = line.value;
        break;
      case "port":
        entry.port = Number(line.value);
        break;
      case "proxyjump":
        if (line.value.toLowerCase() !== "none") entry.proxyJump = line.value;
        break;
      case "userknownhostsfile":
        entry.userKnownHostsFile = line.value.split(/\s+/)[0];
        break;
      case "hostkeyalias":
        entry.hostKeyAlias = line.value;
        break;
      case "proxycommand":
        if (line.value.toLowerCase() !== "none") entry.proxyCommand = line.value;
        break;
    }
  };
  walk(path, alias, context.home, apply, 0);
  const host = entry.hostName ? expandTokens(entry.hostName, alias, alias, entry, context) : alias;
  entry.hostName = host;
  entry.identityFiles = entry.identityFiles.map((file) =>
    expandPath(expandTokens(file, host, alias, entry, context), context.home),
  );
  if (entry.userKnownHostsFile) {
    entry.userKnownHostsFile = expandPath(
      expandTokens(entry.userKnownHostsFile, host, alias, entry, context),
      context.home,
    );
  }
  return entry;
}

function walk(
  path: string,
  alias: string,
  home: string,
  apply: (line: Line) => void,
  depth: number,
): void {
  if (depth > 8) return;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return;
  }
  // Lines before the first Host apply to every host.
  let active = true;
  for (const line of parseLines(text)) {
    if (line.key === "host") {
      active = hostPatternsMatch(line.value, alias);
    } else if (line.key === "match") {
      active = line.value.trim().toLowerCase() === "all";
    } else if (line.key === "include") {
      if (!active) continue;
      for (const file of expandInclude(line.value, dirname(path), home)) {
        walk(file, alias, home, apply, depth + 1);
      }
    } else if (active && KEYS.has(line.key)) {
      apply(line);
    }
  }
}

function parseLines(text: string): Line[] {
  const lines: Line[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const match = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line);
    if (!match) continue;
    const value = (match[2] ?? "").trim().replace(/^"(.*)"$/, "$1");
    lines.push({ key: (match[1] ?? "").toLowerCase(), value });
  }
  return lines;
}

function hostPatternsMatch(value: string, alias: string): boolean {
  let matched = false;
  for (const pattern of value.split(/\s+/).filter(Boolean)) {
    const negated = pattern.startsWith("!");
    if (globMatch(negated ? pattern.slice(1) : pattern, alias)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

function expandInclude(value: string, baseDir: string, home: string): string[] {
  const files: string[] = [];
  for (const item of value.split(/\s+/).filter(Boolean)) {
    const expanded = expandPath(item, home);
    const full = isAbsolute(expanded) ? expanded : join(baseDir, expanded);
    const dir = dirname(full);
    const base = full.slice(dir.length + 1);
    if (!/[*?]/.test(base)) {
      files.push(full);
      continue;
    }
    try {
      for (const name of readdirSync(dir).sort()) {
        if (globMatch(base, name)) files.push(join(dir, name));
      }
    } catch {
      // A missing include directory is not an error for ssh either.
    }
  }
  return files;
}

function expandTokens(
  value: string,
  host: string,
  alias: string,
  entry: SshConfigEntry,
  context: { home: string; localUser: string },
): string {
  return value.replace(/%([%hnprud])/g, (_match, token: string) => {
    switch (token) {
      case "h":
        return host;
      case "n":
        return alias;
      case "p":
        return String(entry.port ?? 22);
      case "r":
        return entry.user ?? context.localUser;
      case "u":
        return context.localUser;
      case "d":
        return context.home;
      default:
        return "%";
    }
  });
}

/** Expands a leading `~` to the home directory. */
export function expandPath(path: string, home: string): string {
  if (path === "~") return home;
  if (path.startsWith("~/")) return join(home, path.slice(2));
  return path;
}

/** Splits `[user@]host[:port]` (also `[v6]:port`). */
export function parseJumpSpec(spec: string): { user?: string; host: string; port?: number } {
  let rest = spec.replace(/^ssh:\/\//, "");
  let user: string | undefined;
  const at = rest.lastIndexOf("@");
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  const bracketed = /^\[(.+)\](?::(\d+))?$/.exec(rest);
  if (bracketed) {
    return {
      user,
      host: bracketed[1] as string,
      port: bracketed[2] ? Number(bracketed[2]) : undefined,
    };
  }
  const colon = /^([^:]+):(\d+)$/.exec(rest);
  if (colon) return { user, host: colon[1] as string, port: Number(colon[2]) };
  return { user, host: rest };
}
