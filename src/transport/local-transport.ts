import { spawn } from "node:child_process";
import {
  type ExecOptions,
  type ExecResult,
  type FollowHandle,
  type FollowOptions,
  type Transport,
  TransportTimeoutError,
} from "./transport.ts";

/**
 * Runs probe scripts on this machine (`ssh: local`): the same POSIX sh scripts as over SSH,
 * fed to `sh -s` on stdin, so local runs and the demo exercise the real probe.
 */
export class LocalTransport implements Transport {
  readonly description = "local";
  private readonly defaultTimeoutMs: number;

  constructor(options: { execTimeoutMs?: number } = {}) {
    this.defaultTimeoutMs = options.execTimeoutMs ?? 30_000;
  }

  run(script: string, options: ExecOptions = {}): Promise<ExecResult> {
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    return new Promise((resolve, reject) => {
      const child = spawn("sh", ["-s"], { stdio: ["pipe", "pipe", "pipe"], detached: true });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child.pid);
      }, timeoutMs);
      child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
      child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
      child.on("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.on("close", (code) => {
        clearTimeout(timer);
        if (timedOut) {
          reject(new TransportTimeoutError(`local script ran past ${timeoutMs} ms and was killed`));
          return;
        }
        resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString("utf8"), code });
      });
      child.stdin.on("error", () => {
        // The script may exit before reading all of stdin; its exit status tells the story.
      });
      child.stdin.end(script);
    });
  }

  async follow(options: FollowOptions): Promise<FollowHandle> {
    const child = spawn("tail", ["-c", `+${options.fromOffset + 1}`, "-f", "--", options.path], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    let stopped = false;
    child.stdout.on("data", (chunk: Buffer) => options.onData(chunk));
    child.on("close", (code) => {
      if (!stopped) options.onEnd(new Error(`tail exited with status ${code}`));
    });
    child.on("error", (error) => {
      if (!stopped) options.onEnd(error);
    });
    return {
      stop: async () => {
        stopped = true;
        child.kill("SIGTERM");
      },
    };
  }

  async close(): Promise<void> {}
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}
