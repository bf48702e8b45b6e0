import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunConfig } from "../../src/config/schema.ts";
import { listRunProcesses } from "../../src/monitors/run-process-list.ts";
import { createTransport } from "../../src/transport/create-transport.ts";
import { runTrainops } from "../harness/cli.ts";
import {
  type PytorchRun,
  STAND_IN_TRAIN_PY,
  SYSTEM_PYTHON,
  startPytorchRun,
  TRAIN_PY,
} from "../harness/pytorch-run.ts";
import { waitUntil } from "../harness/wait.ts";

/**
 * Three jobs whose command line holds `train.py` on one host: ours (a real PyTorch job in the
 * run's workdir, as the SSH user), another user's (`nobody`, elsewhere), and one of ours in
 * another directory. Only the first is the run's: counted, listed and signalled.
 */

let torch: PytorchRun;
let otherDir: string;
let configPath: string;
const strangers: Array<{ child: ChildProcess; label: string }> = [];

/** Start time (field 22 of /proc/PID/stat): the same pid with the same start time is the same process. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

/** Children of `pid`, from /proc (the pids this test started and their forks only). */
function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
}

function startStranger(label: string, command: string[], cwd: string): ChildProcess {
  const child = spawn(command[0] as string, command.slice(1), {
    cwd,
    stdio: ["ignore", "pipe", "inherit"],
  });
  strangers.push({ child, label });
  return child;
}

beforeAll(async () => {
  torch = await startPytorchRun({
    prefix: "trainops-process-set-",
    style: "logging",
    epochs: 1,
    stepsPerEpoch: 2000,
    stepSleep: 0.1,
  });
  ({ path: configPath } = torch.config());
  otherDir = mkdtempSync(join(tmpdir(), "trainops-other-job-"));
  chmodSync(otherDir, 0o755);
  const script = join(otherDir, "train.py");
  writeFileSync(script, STAND_IN_TRAIN_PY, { mode: 0o644 });
  // Another user's job with the same script name, elsewhere.
  startStranger(
    "nobody's train.py",
    ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", SYSTEM_PYTHON, script],
    otherDir,
  );
  // One of ours, same name, another directory.
  startStranger("our train.py elsewhere", [SYSTEM_PYTHON, script], otherDir);
  // Ours, started by hand in the workdir (not by trainops: no recorded pid).
  const log = openSync(torch.logPath, "a");
  const ours = spawn(
    SYSTEM_PYTHON,
    [TRAIN_PY, "--config", "train.yaml", "--style", "logging", "--step-sleep", "0.1"],
    {
      cwd: torch.workdir,
      stdio: ["ignore", log, log],
    },
  );
  strangers.push({ child: ours, label: "ours" });
  for (const { child, label } of strangers.slice(0, 2)) {
    await new Promise<void>((resolve, reject) => {
      child.stdout?.once("data", () => resolve());
      child.once("exit", (code) => reject(new Error(`${label} exited with ${code}`)));
    });
  }
  await torch.waitForLines(/step \d+\/2000 \| loss=/, 3);
}, 120_000);

afterAll(async () => {
  for (const { child } of strangers) {
    const pid = child.pid as number;
    let forks: number[] = [];
    try {
      forks = childrenOf(pid);
    } catch {
      // Gone already.
    }
    for (const p of [pid, ...forks]) {
      try {
        process.kill(p, "SIGKILL");
      } catch {
        // Gone already.
      }
    }
  }
  await torch?.stop();
  if (otherDir) rmSync(otherDir, { recursive: true, force: true });
});

describe("a run acts on its own processes only", () => {
  it("check and restart --dry-run list only the workdir's job of this user; poll counts only its workers", async () => {
    const ours = strangers.find((s) => s.label === "ours")?.child.pid as number;
    const others = strangers.filter((s) => s.label !== "ours").map((s) => s.child.pid as number);
    const otherForks = others.flatMap((pid) => childrenOf(pid));
    expect(otherForks.length).toBeGreaterThanOrEqual(2);

    const check = await runTrainops(["check", "--config", configPath], { timeoutMs: 60_000 });
    expect(check.stdout).toMatch(
      /PASS\s+torch\s+processes\s+a restart would signal 3 processes \(this user's processes working in the run's workdir\)/,
    );
    expect(check.stdout).toContain(`pid ${ours} trainer:`);
    expect(check.stdout).toMatch(
      /PASS\s+torch\s+workers\s+2 data-loader workers .*forked children/,
    );
    for (const pid of [...others, ...otherForks]) expect(check.stdout).not.toContain(`pid ${pid} `);

    const dry = await runTrainops(["restart", "--dry-run", "--config", configPath], {
      timeoutMs: 60_000,
    });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(
      "would signal (this user's processes working in the run's workdir)",
    );
    expect(dry.stdout).toContain(`pid ${ours} trainer:`);
    expect(dry.stdout.match(/ worker: /g)).toHaveLength(2);
    for (const pid of [...others, ...otherForks]) expect(dry.stdout).not.toContain(`pid ${pid} `);
    // A dry run changes nothing.
    expect(startTime(ours)).not.toBeNull();

    const poll = await runTrainops(["poll", "--once", "--config", configPath], {
      timeoutMs: 60_000,
    });
    expect(poll.stdout).toMatch(/data workers: 2,/);
  }, 120_000);

  it("restart signals our job only; the other user's and our other directory's jobs live on", async () => {
    const ours = strangers.find((s) => s.label === "ours")?.child as ChildProcess;
    const others = strangers.filter((s) => s.label !== "ours").map((s) => s.child.pid as number);
    const before = [...others, ...others.flatMap((pid) => childrenOf(pid))].map((pid) => ({
      pid,
      start: startTime(pid),
    }));
    const oursExited = new Promise<NodeJS.Signals | number | null>((resolve) =>
      ours.once("exit", (code, signal) => resolve(signal ?? code)),
    );

    const restart = await runTrainops(["restart", "--yes", "--config", configPath], {
      timeoutMs: 120_000,
    });
    expect(restart.stderr).toBe("");
    expect(restart.stdout).toContain("Training stopped (SIGINT).");
    expect(restart.code).toBe(0);
    // Ours got Ctrl-C: Python prints the KeyboardInterrupt and ends by SIGINT (3.8+) or status 1.
    expect(["SIGINT", 1]).toContain(await oursExited);
    expect(torch.readLog()).toMatch(/^KeyboardInterrupt/m);
    // The restart is over (the barrier): every other process is the same one as before.
    for (const { pid, start } of before) expect(startTime(pid)).toBe(start);

    // The new job is the tree trainops started, and still only ours is listed.
    const { config } = torch.config();
    const run = config.runs[0] as RunConfig;
    const transport = createTransport(run);
    try {
      await waitUntil(
        async () => (await listRunProcesses(transport, run)).summary.workers.count === 2,
        { timeoutMs: 30_000, what: "the new job's two workers" },
      );
    } finally {
      await transport.close();
    }
    const dry = await runTrainops(["restart", "--dry-run", "--config", configPath], {
      timeoutMs: 60_000,
    });
    expect(dry.stdout).toContain("would signal (the process tree trainops started)");
    expect(dry.stdout.match(/ worker: /g)).toHaveLength(2);
    for (const { pid } of before) expect(dry.stdout).not.toContain(`pid ${pid} `);
  }, 180_000);
});
