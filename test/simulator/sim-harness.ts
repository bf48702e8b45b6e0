import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findProcesses, signalProcess } from "../../src/simulator/process-table.ts";
import { buildSimulatorCommand, SIMULATOR_MAIN } from "../../src/simulator/simulator-options.ts";
import { waitUntil } from "../harness/wait.ts";

/** A simulator process a test started directly (not detached), in its own temp workdir. */
export interface SimProcess {
  child: ChildProcess;
  workdir: string;
  logPath: string;
  stateDir: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Temp folders and processes of one test file; `cleanup()` removes both, even after failures. */
export class SimSandbox {
  readonly root = mkdtempSync(join(tmpdir(), "trainops-sim-test-"));

  /** A workdir with `configs/exp.yaml` holding `yaml` and a train.py link to the simulator. */
  workdir(name: string, yaml: string): string {
    const workdir = join(this.root, name);
    mkdirSync(join(workdir, "configs"), { recursive: true });
    writeFileSync(join(workdir, "configs/exp.yaml"), yaml);
    symlinkSync(SIMULATOR_MAIN, join(workdir, "train.py"));
    return workdir;
  }

  /** Starts the simulator in `workdir` with fast defaults plus `flags`. */
  start(workdir: string, flags: string[] = []): SimProcess {
    const stateDir = join(workdir, "state");
    const [executable, ...args] = buildSimulatorCommand({
      entry: join(workdir, "train.py"),
      workdir,
      config: "configs/exp.yaml",
      log: "runs/exp/logs/train.log",
      stateDir,
      timeScale: 1000,
      extraArgs: ["--startup-seconds", "0", "--worker-memory-mib", "4", ...flags],
    });
    const child = spawn(executable!, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on("exit", (code, signal) => {
        if (stderr !== "") process.stderr.write(`simulator stderr: ${stderr}\n`);
        resolve({ code, signal });
      }),
    );
    return { child, workdir, logPath: join(workdir, "runs/exp/logs/train.log"), stateDir, exited };
  }

  /** Kills every process started from this sandbox and removes its files. */
  async cleanup(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const left = findProcesses(this.root);
      if (left.length === 0) break;
      for (const p of left) signalProcess(p.pid, "SIGKILL");
      await sleep(20);
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Rows of `ps -eo pid,ppid,comm,args` whose args mention `marker`. */
export function psRows(
  marker: string,
): { pid: number; ppid: number; comm: string; args: string }[] {
  const out = execFileSync("ps", ["-eo", "pid=,ppid=,comm=,args=", "-ww"], { encoding: "utf8" });
  return out
    .split("\n")
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && (m[4] ?? "").includes(marker))
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), comm: m[3]!, args: m[4]! }));
}

/** Polls `probe` until it returns a value other than undefined/false, or throws after `ms`. */
export function waitFor<T>(
  what: string,
  probe: () => T | undefined | false,
  ms = 15_000,
): Promise<T> {
  return waitUntil(probe, { what, timeoutMs: ms, intervalMs: 25 });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
