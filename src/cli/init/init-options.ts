import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";

/** The flags of `trainops init` as commander hands them over (all text, all optional). */
export interface InitFlags {
  host?: string;
  user?: string;
  port?: string;
  key?: string;
  knownHosts?: string;
  hostKey?: string;
  sshConfig?: string;
  workdir?: string;
  log?: string;
  trainConfig?: string;
  run?: string;
  local?: boolean;
  nvidiaSmi?: string;
  out: string;
  force?: boolean;
  check: boolean;
}

/** SSH settings the user named; absent ones are left to ~/.ssh/config and OpenSSH defaults. */
export interface InitSsh {
  host: string;
  port?: number;
  user?: string;
  privateKey?: string;
  knownHosts?: string;
  hostKey?: string;
  sshConfig?: string;
}

/** Validated input of `trainops init`. */
export interface InitOptions {
  /** `"local"` for a run on this machine, else the VM's SSH settings. */
  ssh: "local" | InitSsh;
  run: string;
  workdir: string;
  log: string;
  trainConfig?: string;
  nvidiaSmi?: string;
  /** Absolute path of the config file to write. */
  out: string;
  force: boolean;
  check: boolean;
}

/** A flag is missing or wrong; `trainops init` exits 2 with this message. */
export class InitUsageError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
    this.name = "InitUsageError";
  }
}

const RUN_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/;

/**
 * Checks the flags and turns them into {@link InitOptions}. Every problem is collected (not
 * just the first), each naming the flag and how to fix it. Local paths are made absolute
 * against `cwd`, because the written file resolves relative paths against its own folder.
 */
export function validateInitFlags(flags: InitFlags, cwd = process.cwd()): InitOptions {
  const problems: string[] = [];
  const local = flags.local === true;
  const host = flags.host?.trim();

  if (local && flags.host !== undefined) {
    problems.push("--local and --host exclude each other — fix: pass one of them");
  } else if (!local && flags.host === undefined) {
    problems.push(
      "no VM named — fix: pass --host HOST (name, IP or ~/.ssh/config alias), or --local for this machine",
    );
  } else if (!local && !host) {
    problems.push("--host is empty — fix: pass the VM's name, IP address or ~/.ssh/config alias");
  } else if (host && /\s/.test(host)) {
    problems.push(`--host "${host}" contains whitespace — fix: pass one host name or address`);
  }

  let port: number | undefined;
  if (flags.port !== undefined) {
    const text = flags.port.trim();
    port = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      problems.push(
        `--port "${flags.port}" is not a port — fix: pass a whole number from 1 to 65535 (SSH is usually 22)`,
      );
    }
  }
  if (flags.user !== undefined && !/^[^\s@:]+$/.test(flags.user)) {
    problems.push(`--user "${flags.user}" is not a user name — fix: pass the login name on the VM`);
  }
  if (flags.hostKey !== undefined && !FINGERPRINT.test(flags.hostKey)) {
    problems.push(
      `--host-key "${flags.hostKey}" is not a fingerprint — fix: pass SHA256:… as \`ssh-keygen -lf <host key>.pub\` prints it`,
    );
  }
  if (flags.hostKey !== undefined && flags.knownHosts !== undefined) {
    problems.push("--host-key and --known-hosts exclude each other — fix: pass one of them");
  }
  const localFile = (flag: string, path: string | undefined): string | undefined => {
    if (path === undefined) return undefined;
    if (path.trim() === "") {
      problems.push(`${flag} is empty — fix: pass a file path`);
      return undefined;
    }
    const full = path.startsWith("~") ? path : resolve(cwd, path);
    if (!path.startsWith("~") && !existsSync(full)) {
      problems.push(`${flag} ${full}: file not found — fix: pass an existing file`);
    }
    return full;
  };
  const privateKey = localFile("--key", flags.key);
  const knownHosts = localFile("--known-hosts", flags.knownHosts);
  const sshConfig = localFile("--ssh-config", flags.sshConfig);
  if (local) {
    for (const flag of ["user", "port", "key", "knownHosts", "hostKey", "sshConfig"] as const) {
      if (flags[flag] !== undefined) {
        problems.push(
          `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} has no effect with --local — fix: drop it, or name the VM with --host`,
        );
      }
    }
  }

  const workdir = flags.workdir?.trim();
  if (!workdir) {
    problems.push(
      "--workdir is missing — fix: pass the training repository's folder on the VM, e.g. --workdir /mnt/disks/data/repos/myproject",
    );
  } else if (!isAbsolute(workdir) && !workdir.startsWith("~")) {
    problems.push(`--workdir "${workdir}" is relative — fix: pass an absolute path on the VM`);
  }
  const log = flags.log?.trim();
  if (!log) {
    problems.push(
      "--log is missing — fix: pass the training log, relative to --workdir, e.g. --log runs/exp001/train.log",
    );
  }
  const trainConfig = flags.trainConfig?.trim();
  if (flags.trainConfig !== undefined && !trainConfig) {
    problems.push("--train-config is empty — fix: pass the training YAML, relative to --workdir");
  }
  if (flags.nvidiaSmi !== undefined && !flags.nvidiaSmi.trim()) {
    problems.push("--nvidia-smi is empty — fix: pass the command's path on the VM");
  }

  const run = flags.run ?? defaultRunName(workdir);
  if (!RUN_NAME.test(run)) {
    problems.push(
      `--run "${run}" is not a run name — fix: use letters, digits, '_', '.', '-' (at most 63), e.g. --run exp001`,
    );
  }
  if (!flags.out.trim()) problems.push("--out is empty — fix: pass the file to write");

  if (problems.length > 0) throw new InitUsageError(problems);
  return {
    ssh: local
      ? "local"
      : {
          host: host as string,
          port,
          user: flags.user,
          privateKey,
          knownHosts,
          hostKey: flags.hostKey,
          sshConfig,
        },
    run,
    workdir: workdir as string,
    log: log as string,
    trainConfig: trainConfig || undefined,
    nvidiaSmi: flags.nvidiaSmi?.trim() || undefined,
    out: resolve(cwd, flags.out),
    force: flags.force === true,
    check: flags.check,
  };
}

/** The workdir's last folder, cleaned into a run name (`vesuvius_challenge`), else `run1`. */
function defaultRunName(workdir: string | undefined): string {
  const last = (workdir ?? "").replace(/\/+$/, "").split("/").pop() ?? "";
  const cleaned = last.replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/^[^A-Za-z0-9]+/, "");
  return cleaned.slice(0, 63) || "run1";
}
