import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimulatedVm } from "../../src/simulator/simulated-vm.ts";
import { runTrainops } from "../harness/cli.ts";
import { type SimulatedRun, startSimulatedRun } from "../harness/simulated-run.ts";
import type { SshdHarness } from "../harness/sshd.ts";

const trainops = (args: string[]) => runTrainops(args, { timeoutMs: 60_000 });

let sim: SimulatedRun;
let sshd: SshdHarness;
let vm: SimulatedVm;
let root: string;
let configPath: string;

beforeAll(async () => {
  sim = await startSimulatedRun({
    prefix: "trainops-cli-",
    vm: { timeScale: 200, startupSeconds: 0.5 },
  });
  ({ sshd, vm, root } = sim);
  await vm.start();
  configPath = sim.writeConfig({
    store: join(root, "trainops.db"),
    runs: [sim.runEntry()],
    alerts: { console: true },
  });
  // Let the simulated job write a few steps.
  await sim.waitForSteps();
});

afterAll(() => sim?.stop());

describe("trainops poll, status and check", () => {
  it("polls once over SSH and prints what it found", async () => {
    const out = await trainops(["poll", "--once", "--config", configPath]);
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/exp001: polled in \d+ ms/);
    expect(out.stdout).toMatch(/step \d+\/128000/);
    expect(out.stdout).toContain("GPU 0 NVIDIA A100-SXM4-80GB");
    expect(out.stdout).toMatch(/data workers: 1,/);
  });

  it("prints the stored state as JSON with the contract fields", async () => {
    const out = await trainops(["status", "--json", "--config", configPath]);
    expect(out.code).toBe(0);
    const status = JSON.parse(out.stdout) as { runs: Array<Record<string, unknown>> };
    const run = status.runs[0] as Record<string, unknown>;
    expect(Object.keys(run).sort()).toEqual(
      [
        "name",
        "step",
        "totalSteps",
        "epoch",
        "stepTimeSeconds",
        "stepsPerHour",
        "stepTimeObserved",
        "etaSeconds",
        "alive",
        "reachable",
        "lastPollAt",
        "gpus",
        "hostMemory",
        "workers",
        "lastError",
        "cost",
      ].sort(),
    );
    // No `cost:` on this run: the field is there, and null.
    expect(run.cost).toBeNull();
    expect(run.name).toBe("exp001");
    expect(run.reachable).toBe(true);
    expect(run.alive).toBe(true);
    expect(run.totalSteps).toBe(128_000);
    expect(typeof run.step).toBe("number");
    expect((run.gpus as Array<{ memoryTotalMiB: number }>)[0]?.memoryTotalMiB).toBe(81920);
    expect((run.workers as { count: number }).count).toBe(1);
    expect(run.lastError).toBeNull();
  });

  it("checks SSH, host key, log, training config and nvidia-smi", async () => {
    const out = await trainops(["check", "--config", configPath]);
    expect(out.code).toBe(0);
    for (const check of ["connection", "log", "train-config", "nvidia-smi"]) {
      expect(out.stdout).toMatch(new RegExp(`PASS\\s+exp001\\s+${check}`));
    }
  });

  it("refuses a VM whose host key does not match, and says how to fix it", async () => {
    const badKnownHosts = join(root, "bad_known_hosts");
    writeFileSync(
      badKnownHosts,
      `[127.0.0.1]:${sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n`,
    );
    const badConfig = sim.writeConfig(
      {
        store: join(root, "bad.db"),
        runs: [
          {
            name: "exp001",
            ssh: { ...sshd.runConfigSsh(), knownHosts: badKnownHosts },
            workdir: vm.workdir,
            log: vm.log,
          },
        ],
      },
      "bad.yaml",
    );
    const out = await trainops(["check", "--config", badConfig]);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/FAIL\s+exp001\s+connection\s+.*does not match/);
    const poll = await trainops(["poll", "--once", "--config", badConfig]);
    expect(poll.code).toBe(1);
    expect(poll.stdout).toMatch(/exp001: unreachable/);
  });

  it("a missing log, training config and nvidia-smi make the poll degraded, exit 1, and alert after 3", async () => {
    const config = sim.writeConfig(
      {
        store: join(root, "degraded.db"),
        runs: [
          {
            ...sim.runEntry(),
            log: "no-such.log",
            trainConfig: "no-such.yaml",
            nvidiaSmi: join(root, "no-such-nvidia-smi"),
          },
        ],
        alerts: { console: true },
      },
      "degraded.yaml",
    );
    const outs = [];
    for (let i = 0; i < 3; i++) outs.push(await trainops(["poll", "--once", "--config", config]));
    for (const out of outs) {
      expect(out.code).toBe(1);
      expect(out.stdout).toMatch(/exp001: degraded \(polled in \d+ ms\)/);
      expect(out.stdout).toContain(
        `log file ${join(vm.workdir, "no-such.log")} not found on the VM`,
      );
      expect(out.stdout).toContain(
        `training config ${join(vm.workdir, "no-such.yaml")} cannot be read on the VM`,
      );
      expect(out.stdout).toContain(`${join(root, "no-such-nvidia-smi")} not found on the VM`);
    }
    expect(outs[1]?.stdout).not.toContain("monitoring incomplete");
    expect(outs[2]?.stdout).toContain("monitoring incomplete for 3 polls");
  }, 180_000);

  it("exits 2 and names the key for a bad config", async () => {
    const broken = sim.writeConfig(
      { runs: [{ name: "x", ssh: { host: "h", port: "22a" }, workdir: "/w", log: "l" }] },
      "broken.yaml",
    );
    const out = await trainops(["status", "--config", broken]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("runs[0].ssh.port");
  });
});
