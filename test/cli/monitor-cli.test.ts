import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { createSimulatedVm, type SimulatedVm } from "../../src/simulator/simulated-vm.ts";
import { type SshdHarness, startSshd } from "../harness/sshd.ts";

const BIN = resolve("bin/trainops.js");

function trainops(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

let sshd: SshdHarness;
let vm: SimulatedVm;
let root: string;
let configPath: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "trainops-cli-"));
  sshd = await startSshd();
  vm = await createSimulatedVm({ root: join(root, "vm"), timeScale: 200, startupSeconds: 0.5 });
  await vm.start();
  configPath = join(root, "trainops.yaml");
  writeFileSync(
    configPath,
    stringify({
      store: join(root, "trainops.db"),
      runs: [
        {
          name: "exp001",
          ssh: sshd.runConfigSsh(),
          workdir: vm.workdir,
          log: vm.log,
          trainConfig: vm.trainConfig,
          nvidiaSmi: vm.nvidiaSmiPath,
          steps: { perEpoch: 4000, epochs: 32 },
          limits: { gpuMemoryGiB: 80, hostMemoryGiB: 100 },
        },
      ],
      alerts: { console: true },
    }),
  );
  // Let the simulated job write a few steps.
  const deadline = Date.now() + 20_000;
  while (!/Train step \d+/.test(vm.readLog()) && Date.now() < deadline) {
    await new Promise((done) => setTimeout(done, 200));
  }
});

afterAll(async () => {
  await vm?.stop();
  await sshd?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe("trainops poll, status and check", () => {
  it("polls once over SSH and prints what it found", () => {
    const out = trainops(["poll", "--once", "--config", configPath]);
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/exp001: polled in \d+ ms/);
    expect(out.stdout).toMatch(/step \d+\/128000/);
    expect(out.stdout).toContain("GPU 0 NVIDIA A100-SXM4-80GB");
    expect(out.stdout).toMatch(/data workers: 1,/);
  });

  it("prints the stored state as JSON with the contract fields", () => {
    const out = trainops(["status", "--json", "--config", configPath]);
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
        "etaSeconds",
        "alive",
        "reachable",
        "lastPollAt",
        "gpus",
        "hostMemory",
        "workers",
        "lastError",
      ].sort(),
    );
    expect(run.name).toBe("exp001");
    expect(run.reachable).toBe(true);
    expect(run.alive).toBe(true);
    expect(run.totalSteps).toBe(128_000);
    expect(typeof run.step).toBe("number");
    expect((run.gpus as Array<{ memoryTotalMiB: number }>)[0]?.memoryTotalMiB).toBe(81920);
    expect((run.workers as { count: number }).count).toBe(1);
    expect(run.lastError).toBeNull();
  });

  it("checks SSH, host key, log, training config and nvidia-smi", () => {
    const out = trainops(["check", "--config", configPath]);
    expect(out.code).toBe(0);
    for (const check of ["connection", "log", "train-config", "nvidia-smi"]) {
      expect(out.stdout).toMatch(new RegExp(`PASS\\s+exp001\\s+${check}`));
    }
  });

  it("refuses a VM whose host key does not match, and says how to fix it", () => {
    const badKnownHosts = join(root, "bad_known_hosts");
    writeFileSync(
      badKnownHosts,
      `[127.0.0.1]:${sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n`,
    );
    const badConfig = join(root, "bad.yaml");
    writeFileSync(
      badConfig,
      stringify({
        store: join(root, "bad.db"),
        runs: [
          {
            name: "exp001",
            ssh: { ...sshd.runConfigSsh(), knownHosts: badKnownHosts },
            workdir: vm.workdir,
            log: vm.log,
          },
        ],
      }),
    );
    const out = trainops(["check", "--config", badConfig]);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/FAIL\s+exp001\s+connection\s+.*does not match/);
    const poll = trainops(["poll", "--once", "--config", badConfig]);
    expect(poll.code).toBe(1);
    expect(poll.stdout).toMatch(/exp001: unreachable/);
  });

  it("exits 2 and names the key for a bad config", () => {
    const broken = join(root, "broken.yaml");
    writeFileSync(
      broken,
      stringify({
        runs: [{ name: "x", ssh: { host: "h", port: "22a" }, workdir: "/w", log: "l" }],
      }),
    );
    const out = trainops(["status", "--config", broken]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("runs[0].ssh.port");
  });
});
