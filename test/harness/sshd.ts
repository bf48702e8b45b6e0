import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.ts";
import { childPids, signalPid } from "./process-stop.ts";

const SSHD = "/usr/sbin/sshd";
/** File in the harness dir that receives sshd's log. */
const SSHD_LOG = "sshd.log";

/**
 * Sessions of the machine's own user run without that user's ~/.bashrc: what it does is the
 * machine's, not the test's (root's here runs `pyenv init`, whose `pyenv rehash` takes a lock
 * shared by every shell on the machine and waits up to 60 s for it, so under load a session's
 * first script could wait for other processes' shells past its exec timeout). bash sources
 * ~/.bashrc for a command sshd runs only as a top-level shell (SHLVL below 2 after its own
 * increment). The throwaway user of `loginShellDelayMs` keeps its rc: that one is the test's.
 */
const WITHOUT_MACHINE_RC: Record<string, string> = { SHLVL: "1" };

/** Options of {@link startSshd}. */
export interface SshdOptions {
  /**
   * Log in as a throwaway Unix user (created with useradd, removed by stop()) whose bash
   * sources a ~/.bashrc that sleeps this long, as conda or pyenv init does on ML VMs.
   * Needs root; startSshd rejects when useradd fails.
   */
  loginShellDelayMs?: number;
  /** Listen on this port instead of a free random one (restart on the same port). */
  port?: number;
  /** Reuse the host key of an earlier harness (same fingerprint after a restart). */
  hostKeyPath?: string;
  /**
   * Environment of every session (sshd's `SetEnv`), e.g. a PATH whose first directory holds a
   * tool that behaves as it does for an unprivileged user.
   */
  setEnv?: Record<string, string>;
  /**
   * sshd's `MaxStartups` and `MaxSessions`. Tests get roomy ones (100, 50) so parallel
   * connects never meet them; `bench/scale` passes OpenSSH's defaults (`10:30:100`, 10).
   */
  limits?: { maxStartups: string; maxSessions: number };
}

/** A running OpenSSH server on a loopback port, with its own keys; stop() removes it all. */
export interface SshdHarness {
  host: "127.0.0.1";
  port: number;
  user: string;
  privateKeyPath: string;
  publicKey: string;
  hostKeyPath: string;
  /** A known_hosts file with the `[127.0.0.1]:port` entry for this server's host key. */
  knownHostsPath: string;
  /** `SHA256:…` of the host key, as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint: string;
  /** PID of the listening sshd; each connection is a child process of it. */
  pid: number;
  /** Temp directory that holds everything; tests may put files here. */
  dir: string;
  /** sshd's own log (its stderr, `-e`), appended to across restarts. */
  logPath: string;
  /** The `ssh:` object of a RunConfig that reaches this server. */
  runConfigSsh(): {
    host: string;
    port: number;
    user: string;
    privateKey: string;
    knownHosts: string;
    /** An empty client config, so the machine's ~/.ssh/config cannot change the target. */
    sshConfig: string;
    connectTimeout: string;
    execTimeout: string;
    keepaliveInterval: string;
  };
  /** How many times the slow login user's ~/.bashrc ran (0 without loginShellDelayMs). */
  rcRunCount(): number;
  /** Number of SSH connections the server holds now. */
  connectionCount(): number;
  /** Kills the server (connections drop) but keeps keys and the temp dir for a restart. */
  kill(): Promise<void>;
  /** Starts the server again on the same port with the same keys. */
  restart(): Promise<void>;
  /** Kills the server and removes its files (and the throwaway user). */
  stop(): Promise<void>;
}

/** Starts a real /usr/sbin/sshd on a random loopback port with temp host and client keys. */
export async function startSshd(options: SshdOptions = {}): Promise<SshdHarness> {
  if (!existsSync(SSHD)) {
    throw new Error(`${SSHD} not found: install openssh-server (apt-get install openssh-server)`);
  }
  const dir = mkdtempSync(join(tmpdir(), "trainops-sshd-"));
  // The login user (maybe not the owner of dir) must read authorized_keys.
  chmodSync(dir, 0o755);
  const hostKeyPath = join(dir, "host_key");
  if (options.hostKeyPath) {
    writeFileSync(hostKeyPath, readFileSync(options.hostKeyPath), { mode: 0o600 });
    writeFileSync(`${hostKeyPath}.pub`, readFileSync(`${options.hostKeyPath}.pub`));
  } else {
    keygen(hostKeyPath);
  }
  const privateKeyPath = join(dir, "client_key");
  keygen(privateKeyPath);
  const publicKey = readFileSync(`${privateKeyPath}.pub`, "utf8").trim();
  writeFileSync(join(dir, "authorized_keys"), `${publicKey}\n`, { mode: 0o644 });
  ensurePrivsepDir();

  let user = userInfo().username;
  let throwawayUser: string | undefined;
  if (options.loginShellDelayMs !== undefined) {
    throwawayUser = createSlowLoginUser(dir, options.loginShellDelayMs);
    user = throwawayUser;
  }
  const sessionEnv = throwawayUser ? options.setEnv : { ...WITHOUT_MACHINE_RC, ...options.setEnv };

  const hostKeyLine = readFileSync(`${hostKeyPath}.pub`, "utf8").trim().split(/\s+/);
  const hostKeyFingerprint = `SHA256:${createHash("sha256")
    .update(Buffer.from(hostKeyLine[1] as string, "base64"))
    .digest("base64")
    .replace(/=+$/, "")}`;

  let port = options.port ?? 0;
  let child: ChildProcess | undefined;
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    const tryPort = options.port ?? (await freePort());
    try {
      child = await launch(dir, hostKeyPath, tryPort, sessionEnv, options.limits);
      port = tryPort;
    } catch (error) {
      // Another process took the port between probe and bind; pick another one.
      if (options.port !== undefined || !/Address already in use/i.test(String(error))) {
        cleanup(dir, throwawayUser);
        throw error;
      }
    }
  }
  if (!child) {
    cleanup(dir, throwawayUser);
    throw new Error("sshd could not bind a free loopback port in 5 attempts");
  }
  const knownHostsPath = join(dir, "known_hosts");
  const clientConfigPath = join(dir, "ssh_client_config");
  writeFileSync(clientConfigPath, "# empty: tests must not depend on ~/.ssh/config\n");
  writeFileSync(knownHostsPath, `[127.0.0.1]:${port} ${hostKeyLine[0]} ${hostKeyLine[1]}\n`);

  let current: ChildProcess | undefined = child;
  const killCurrent = async () => {
    const proc = current;
    current = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    // Kill the listener and its per-connection children so connections drop at once.
    for (const pid of childPids(proc.pid as number)) signalPid(pid, "SIGKILL");
    signalPid(proc.pid as number, "SIGKILL");
    await exited;
  };

  const harness: SshdHarness = {
    host: "127.0.0.1",
    port,
    user,
    privateKeyPath,
    publicKey,
    hostKeyPath,
    knownHostsPath,
    hostKeyFingerprint,
    pid: child.pid as number,
    dir,
    logPath: join(dir, SSHD_LOG),
    runConfigSsh: () => ({
      host: "127.0.0.1",
      port,
      user,
      privateKey: privateKeyPath,
      knownHosts: knownHostsPath,
      sshConfig: clientConfigPath,
      connectTimeout: "5s",
      execTimeout: "10s",
      keepaliveInterval: "15s",
    }),
    rcRunCount: () => {
      try {
        return readFileSync(join(dir, "home", ".rc-runs"), "utf8")
          .split("\n")
          .filter(Boolean).length;
      } catch {
        return 0;
      }
    },
    connectionCount: () => (current?.pid ? childPids(current.pid).length : 0),
    kill: killCurrent,
    restart: async () => {
      await killCurrent();
      current = await launch(dir, hostKeyPath, port, sessionEnv, options.limits);
      harness.pid = current.pid as number;
    },
    stop: async () => {
      await killCurrent();
      cleanup(dir, throwawayUser);
    },
  };
  return harness;
}

function keygen(path: string): void {
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "trainops-test", "-f", path]);
}

/** sshd running as root insists on its privilege separation directory. */
function ensurePrivsepDir(): void {
  if (process.getuid?.() !== 0) return;
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
}

/** Starts sshd in the foreground and resolves once it listens. */
function launch(
  dir: string,
  hostKeyPath: string,
  port: number,
  setEnv: Record<string, string> = {},
  limits: { maxStartups: string; maxSessions: number } = { maxStartups: "100", maxSessions: 50 },
): Promise<ChildProcess> {
  const configPath = join(dir, "sshd_config");
  writeFileSync(
    configPath,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKeyPath}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      "PermitRootLogin prohibit-password",
      "StrictModes no",
      "UsePAM no",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PrintMotd no",
      `MaxStartups ${limits.maxStartups}`,
      `MaxSessions ${limits.maxSessions}`,
      "LogLevel INFO",
      // One line for all: sshd takes the first SetEnv line only.
      ...(Object.keys(setEnv).length > 0
        ? [
            `SetEnv ${Object.entries(setEnv)
              .map(([name, value]) => `${name}="${value}"`)
              .join(" ")}`,
          ]
        : []),
      "",
    ].join("\n"),
  );
  // sshd's stderr goes to a file, not a pipe into this process: sshd writes its log lines
  // (three for every connection) with blocking writes, so a pipe that this process does not
  // drain, because its event loop is busy or blocked in spawnSync, fills up after some 90
  // connections. The monitor of the next connection then blocks writing "Accepted publickey"
  // right after authentication, until LoginGraceTime (120 s) kills it and the client sees
  // "Broken pipe". A file never blocks the writer.
  const logPath = join(dir, SSHD_LOG);
  const logFd = openSync(logPath, "a");
  const from = statSync(logPath).size;
  let child: ChildProcess;
  try {
    child = spawn(SSHD, ["-D", "-e", "-f", configPath], { stdio: ["ignore", "ignore", logFd] });
  } finally {
    closeSync(logFd);
  }
  const logSinceLaunch = () => readFileSync(logPath).subarray(from).toString("utf8");
  return new Promise((resolve, reject) => {
    const settle = () => {
      clearInterval(poll);
      clearTimeout(timer);
    };
    const poll = setInterval(() => {
      if (logSinceLaunch().includes("Server listening on")) {
        settle();
        resolve(child);
      }
    }, 10);
    const timer = setTimeout(() => {
      settle();
      child.kill("SIGKILL");
      reject(new Error(`sshd did not start listening within 5 s:\n${logSinceLaunch()}`));
    }, 5000);
    child.on("error", (error) => {
      settle();
      reject(error);
    });
    child.on("exit", (code) => {
      settle();
      reject(new Error(`sshd exited with status ${code}:\n${logSinceLaunch()}`));
    });
  });
}

function createSlowLoginUser(dir: string, delayMs: number): string {
  const name = `tro${Math.random().toString(36).slice(2, 10)}`;
  const home = join(dir, "home");
  try {
    // '*' (not '!') keeps the account unlocked for key login with UsePAM no.
    execFileSync("useradd", ["-M", "-d", home, "-s", "/bin/bash", "-p", "*", name], {
      stdio: "pipe",
    });
  } catch (error) {
    throw new Error(`useradd failed (loginShellDelayMs needs root): ${(error as Error).message}`);
  }
  mkdirSync(home, { mode: 0o755 });
  const seconds = (delayMs / 1000).toFixed(3);
  // bash sources ~/.bashrc for every command sshd runs, interactive or not.
  const sleep = delayMs > 0 ? `sleep ${seconds}\n` : "";
  writeFileSync(join(home, ".bashrc"), `echo run >> ~/.rc-runs\n${sleep}`);
  execFileSync("chown", ["-R", `${name}:`, home]);
  return name;
}

function cleanup(dir: string, user: string | undefined): void {
  if (user) {
    try {
      execFileSync("pkill", ["-KILL", "-u", user], { stdio: "ignore" });
    } catch {
      // No processes left.
    }
    try {
      execFileSync("userdel", ["-f", user], { stdio: "ignore" });
    } catch {
      // Best effort: a leftover throwaway user is harmless.
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
