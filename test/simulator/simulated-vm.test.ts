import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { createSimulatedVm, type SimulatedVm } from "../../src/simulator/simulated-vm.ts";
import { startSshd } from "../harness/sshd.ts";
import { psRows, waitFor } from "./sim-harness.ts";

const root = mkdtempSync(join(tmpdir(), "trainops-vm-test-"));
const vms: SimulatedVm[] = [];
afterAll(async () => {
  for (const vm of vms) await vm.stop(500).catch(() => {});
  rmSync(root, { recursive: true, force: true });
});

async function vm(
  name: string,
  options: Parameters<typeof createSimulatedVm>[0] extends infer O ? Partial<O> : never = {},
) {
  const created = await createSimulatedVm({
    root: join(root, name),
    timeScale: 1000,
    startupSeconds: 0,
    ...options,
  });
  vms.push(created);
  return created;
}

const steps = (text: string) => [...text.matchAll(/Train step (\d+)\//g)].map((m) => Number(m[1]));

describe("createSimulatedVm", () => {
  it("lays out the user's VM: commented YAML, log dir, fake nvidia-smi, start script", async () => {
    const sim = await vm("layout", { workers: 2, batchSize: 2, stepsPerEpoch: 50 });
    expect(sim.logPath).toBe(join(sim.workdir, "runs/exp001_full/logs/train_full.log"));
    expect(sim.trainConfigPath).toBe(join(sim.workdir, "configs/experiments/exp001_full.yaml"));
    expect(sim.log).toBe("runs/exp001_full/logs/train_full.log");
    expect(sim.trainConfig).toBe("configs/experiments/exp001_full.yaml");
    for (const path of [sim.logPath, sim.nvidiaSmiPath, join(sim.workdir, "start.sh")]) {
      expect(existsSync(path)).toBe(true);
    }
    const text = readFileSync(sim.trainConfigPath, "utf8");
    const doc = parseDocument(text);
    expect(doc.errors).toEqual([]);
    expect(doc.getIn(["training", "workers"])).toBe(2);
    expect(doc.getIn(["training", "train_batch_size"])).toBe(2);
    expect(doc.getIn(["training", "persistent_workers"])).toBe(false);
    expect(doc.getIn(["training", "steps_per_epoch"])).toBe(50);
    expect(text).toMatch(/^ {2}workers: 2 +# DataLoader num_workers/m);
    expect(text.split("\n").filter((l) => l.includes("#")).length).toBeGreaterThan(10);
    const idle = execFileSync(sim.nvidiaSmiPath, [
      "--query-compute-apps=pid,used_memory",
      "--format=csv,noheader,nounits",
    ]);
    expect(idle.toString()).toBe("");
  });

  it("starts detached through startCommand, reports the GPU busy, and stop() leaves nothing", async () => {
    const sim = await vm("run", { workers: 2, batchSize: 1, timeScale: 100 });
    await promisify(execFile)("sh", ["-c", sim.startCommand], { cwd: "/" });
    const pid = await waitFor("trainer", () => sim.trainerPid() ?? undefined);
    await waitFor("2 workers", () => sim.workerPids().length === 2);
    await waitFor("a step", () => steps(sim.readLog()).length > 0);
    const ps = psRows(sim.workdir);
    expect(ps.find((r) => r.pid === pid)).toMatchObject({ comm: "python" });
    expect(ps.find((r) => r.pid === pid)?.args).toContain(join(sim.workdir, "train.py"));
    const apps = execFileSync(sim.nvidiaSmiPath, [
      "--query-compute-apps=pid,used_memory",
      "--format=csv,noheader,nounits",
    ]).toString();
    expect(apps).toMatch(new RegExp(`^${pid}, 7\\d{4}\\n$`));
    const gpu = execFileSync(sim.nvidiaSmiPath, [
      "--query-gpu=index,name,memory.used,memory.total,utilization.gpu,temperature.gpu,power.draw",
      "--format=csv,noheader,nounits",
    ]).toString();
    const [, , used, total] = gpu.trim().split(", ");
    expect(Number(used)).toBeGreaterThan(78_000); // ~77 GiB at batch 1
    expect(Number(total)).toBe(81_920);

    await sim.stop();
    expect(sim.isRunning()).toBe(false);
    expect(psRows(sim.workdir)).toEqual([]);
    expect(sim.readLog()).toMatch(/Received SIGTERM: stopping training at step \d+/);
    expect(existsSync(sim.checkpointPath)).toBe(true);
  });

  it("fails the way the YAML asks: batch 8 ends in CUDA OOM; extra args force faults", async () => {
    const oom = await vm("oom", { batchSize: 8 });
    await oom.start();
    await waitFor("the trainer to die", () => !oom.isRunning());
    expect(oom.readLog()).toContain("torch.OutOfMemoryError: CUDA out of memory.");

    const crash = await vm("crash");
    crash.setExtraArgs(["--crash-at-step", "3"]);
    await crash.start();
    await waitFor("the trainer to die", () => !crash.isRunning());
    expect(crash.readLog()).toMatch(/^ValueError: empty surface mask/m);
    expect(steps(crash.readLog())).toEqual([1, 2]);
  });

  it("starts over real SSH: the session returns at once and training outlives it", async () => {
    const sshd = await startSshd();
    try {
      const sim = await vm("ssh", { timeScale: 100 });
      const ssh = (command: string) =>
        promisify(execFile)(
          "ssh",
          [
            "-p",
            String(sshd.port),
            "-i",
            sshd.privateKeyPath,
            "-o",
            `UserKnownHostsFile=${sshd.knownHostsPath}`,
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            `${sshd.user}@${sshd.host}`,
            command,
          ],
          { timeout: 15_000 },
        );
      const started = await ssh(sim.startCommand);
      expect(started.stdout).toContain("train.py started in the background");
      await waitFor("steps after the session closed", () => steps(sim.readLog()).length >= 2);
      const smi = await ssh(
        `${sim.nvidiaSmiPath} --query-compute-apps=pid,used_memory --format=csv,noheader,nounits`,
      );
      expect(smi.stdout).toMatch(new RegExp(`^${sim.trainerPid()}, \\d+\\n$`));
      await sim.stop();
      expect(psRows(sim.workdir)).toEqual([]);
    } finally {
      await sshd.stop();
    }
  });
});
