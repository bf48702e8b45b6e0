import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.ts";
import { stopChild } from "./process-stop.ts";

/** A Prometheus-family server (prometheus, alertmanager) this test started. */
export interface OpsProcess {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Its temp directory (config, storage). */
  dir: string;
  /** What it printed, for failure messages. */
  output(): string;
  /** Stops it (by its pid) and removes its directory. */
  stop(): Promise<void>;
}

/** How to start one. */
export interface OpsProcessSpec {
  binary: string;
  /** Short name for messages and the temp dir. */
  name: string;
  /** Writes its files into `dir` and returns its arguments for listening on `port`. */
  prepare(dir: string, port: number): string[];
  /** Listen on this port (a restart on the same address) instead of a free one. */
  port?: number;
  /** Give up waiting for `/-/ready` after this long (default 30 s). */
  readyTimeoutMs?: number;
}

/**
 * Starts the binary on a free loopback port in a fresh temp directory and waits until its
 * `/-/ready` answers 200; retries with another port when the one probed was taken meanwhile.
 */
export async function startOpsProcess(spec: OpsProcessSpec): Promise<OpsProcess> {
  const dir = mkdtempSync(join(tmpdir(), `trainops-${spec.name}-`));
  let lastError: Error | null = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = spec.port ?? (await freePort());
    const args = spec.prepare(dir, port);
    const child = spawn(spec.binary, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr?.on("data", (c: Buffer) => (out += c.toString()));
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitReady(child, url, spec.readyTimeoutMs ?? 30_000, () => out);
      return {
        url,
        port,
        dir,
        output: () => out,
        stop: async () => {
          await stopChild(child);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    } catch (error) {
      lastError = error as Error;
      await stopChild(child);
      if (spec.port !== undefined || !/address already in use/i.test(out)) break;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError ?? new Error(`${spec.name} did not start`);
}

async function waitReady(
  child: ChildProcess,
  url: string,
  timeoutMs: number,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`exited (${child.exitCode ?? child.signalCode}):\n${output()}`);
    try {
      const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`not ready after ${timeoutMs} ms:\n${output()}`);
}
