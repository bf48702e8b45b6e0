import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BUNDLED_CONFIG_SCHEMA,
  BUNDLED_PLAN,
  BUNDLED_PLAN_SCHEMA,
  starterPlanText,
} from "../../src/cli/init/write-starter.ts";
import { loadConfig } from "../../src/config/load-config.ts";
import { runTrainops } from "../harness/cli.ts";
import { type SshdHarness, startSshd } from "../harness/sshd.ts";

let sshd: SshdHarness;
let dir: string;
let workdir: string;
let fakeSmi: string;

beforeAll(async () => {
  sshd = await startSshd();
  dir = mkdtempSync(join(tmpdir(), "trainops-init-"));
  // The "VM": a training repository with a log, a training config and an nvidia-smi.
  workdir = join(dir, "vm", "repos", "vesuvius_challenge");
  mkdirSync(join(workdir, "runs/exp001_full/logs"), { recursive: true });
  mkdirSync(join(workdir, "configs/experiments"), { recursive: true });
  writeFileSync(
    join(workdir, "runs/exp001_full/logs/train_full.log"),
    "Epoch 1/32\nstep 10/4000 loss 0.91\nstep 11/4000 loss 0.90\n",
  );
  writeFileSync(
    join(workdir, "configs/experiments/exp001_full.yaml"),
    "training:\n  workers: 1\n  train_batch_size: 1\n",
  );
  fakeSmi = join(dir, "vm", "nvidia-smi");
  writeFileSync(
    fakeSmi,
    '#!/bin/sh\necho "0, NVIDIA H100 80GB HBM3, 78911, 81559, 97, 61, 402.13"\n',
  );
  chmodSync(fakeSmi, 0o755);
  chmodSync(dir, 0o755);
});

afterAll(async () => {
  await sshd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Flags naming the harness's sshd and the workdir, as a user would type them. */
function vmFlags(out: string, extra: string[] = []): string[] {
  return [
    "init",
    "--host",
    sshd.host,
    "--port",
    String(sshd.port),
    "--user",
    sshd.user,
    "--key",
    sshd.privateKeyPath,
    "--ssh-config",
    sshd.runConfigSsh().sshConfig,
    "--workdir",
    workdir,
    "--log",
    "runs/exp001_full/logs/train_full.log",
    "--train-config",
    "configs/experiments/exp001_full.yaml",
    "--nvidia-smi",
    fakeSmi,
    "--run",
    "exp001",
    "--out",
    out,
    ...extra,
  ];
}

describe("trainops init against a real sshd", () => {
  it("writes a config and plan that trainops check accepts", async () => {
    const home = join(dir, "ok");
    mkdirSync(home);
    const result = await runTrainops(
      vmFlags("trainops.yaml", ["--known-hosts", sshd.knownHostsPath]),
      { cwd: home },
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    for (const check of ["connection", "log", "train-config", "nvidia-smi"]) {
      expect(result.stdout).toMatch(new RegExp(`^PASS  exp001  ${check} `, "m"));
    }
    expect(result.stdout).not.toMatch(/FAIL/);
    expect(result.stdout).toContain("GPU 0 NVIDIA H100 80GB HBM3");
    expect(result.stdout).toContain("wrote trainops.yaml");
    expect(result.stdout).toContain("trainops start --config trainops.yaml");

    const plan = join(home, "configs/plans/safe-optimization.yaml");
    expect(readFileSync(plan, "utf8")).toBe(starterPlanText(BUNDLED_PLAN));
    // Both files point editors at the installed JSON Schemas.
    const modeline = (path: string) =>
      /^# yaml-language-server: \$schema=(.+)$/m.exec(readFileSync(path, "utf8"))?.[1];
    expect(modeline(join(home, "trainops.yaml"))).toBe(BUNDLED_CONFIG_SCHEMA);
    expect(modeline(plan)).toBe(BUNDLED_PLAN_SCHEMA);
    expect(readFileSync(join(home, "trainops.yaml"), "utf8").split("\n")[0]).toMatch(
      /^# yaml-language-server: \$schema=\/.*trainops\.schema\.json$/,
    );
    expect(() => readFileSync(BUNDLED_PLAN_SCHEMA)).not.toThrow();
    const config = loadConfig(join(home, "trainops.yaml"), { env: {} });
    const run = config.runs[0];
    expect(run?.name).toBe("exp001");
    expect(run?.ssh).toMatchObject({
      host: "127.0.0.1",
      port: sshd.port,
      user: sshd.user,
      privateKey: sshd.privateKeyPath,
      knownHosts: sshd.knownHostsPath,
    });
    expect(run?.plan).toBe("configs/plans/safe-optimization.yaml");
    expect(run?.nvidiaSmi).toBe(fakeSmi);

    // The file stands on its own: a later, separate check reads it the same way.
    const check = await runTrainops(["check", "--config", "trainops.yaml", "--json"], {
      cwd: home,
    });
    expect(check.code).toBe(0);
    const json = JSON.parse(check.stdout) as { results: Array<{ check: string; ok: boolean }> };
    expect(json.results.map((r) => r.check).sort()).toEqual(
      [
        "connection",
        "log",
        "nvidia-smi",
        "oom-kill",
        "processes",
        "train-config",
        "workers",
      ].sort(),
    );
    expect(json.results.filter((r) => !r.ok)).toEqual([]);
  }, 60_000);

  it("pins the host key by fingerprint with --host-key", async () => {
    const home = join(dir, "pinned");
    mkdirSync(home);
    const result = await runTrainops(vmFlags("t.yaml", ["--host-key", sshd.hostKeyFingerprint]), {
      cwd: home,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^PASS {2}exp001 {2}connection /m);
    const ssh = loadConfig(join(home, "t.yaml"), { env: {} }).runs[0]?.ssh;
    expect(ssh).toMatchObject({ hostKey: sshd.hostKeyFingerprint });
    expect(ssh).not.toHaveProperty("knownHosts");
  });

  it("refuses to overwrite an existing config without --force, and keeps an edited plan", async () => {
    const home = join(dir, "exists");
    mkdirSync(join(home, "configs/plans"), { recursive: true });
    writeFileSync(join(home, "trainops.yaml"), "# mine\n");
    writeFileSync(join(home, "configs/plans/safe-optimization.yaml"), "# my edited plan\n");

    const refused = await runTrainops(vmFlags("trainops.yaml", ["--no-check"]), { cwd: home });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("trainops.yaml already exists; nothing was written");
    expect(refused.stderr).toContain("--force");
    expect(readFileSync(join(home, "trainops.yaml"), "utf8")).toBe("# mine\n");

    const forced = await runTrainops(vmFlags("trainops.yaml", ["--no-check", "--force"]), {
      cwd: home,
    });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain("kept configs/plans/safe-optimization.yaml (already there)");
    expect(forced.stdout).toContain("next: trainops check --config trainops.yaml");
    expect(readFileSync(join(home, "trainops.yaml"), "utf8")).toContain("name: exp001");
    expect(readFileSync(join(home, "configs/plans/safe-optimization.yaml"), "utf8")).toBe(
      "# my edited plan\n",
    );
  });

  it("on a first contact without known_hosts, says which fingerprint to check and add", async () => {
    const home = join(dir, "first-contact");
    mkdirSync(home);
    const result = await runTrainops(vmFlags("trainops.yaml"), { cwd: home, env: { HOME: home } });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^FAIL {2}exp001 {2}connection .*cannot be checked/m);
    expect(result.stdout).toContain(sshd.hostKeyFingerprint);
    expect(result.stdout).toContain(
      "Some checks failed: fix the FAIL lines above in trainops.yaml",
    );
  });

  it("exits 2 on a bad port and writes nothing", async () => {
    const home = join(dir, "badport");
    mkdirSync(home);
    const flags = vmFlags("trainops.yaml");
    flags[flags.indexOf("--port") + 1] = "70000";
    const result = await runTrainops(flags, { cwd: home });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'trainops init: --port "70000" is not a port — fix: pass a whole number from 1 to 65535',
    );
    expect(() => readFileSync(join(home, "trainops.yaml"))).toThrow(/ENOENT/);
  });

  it("writes the file but exits 1 and says what to fix when a check fails", async () => {
    const home = join(dir, "failing");
    mkdirSync(home);
    const result = await runTrainops(
      [
        "init",
        "--local",
        "--workdir",
        workdir,
        "--log",
        "runs/missing.log",
        "--nvidia-smi",
        fakeSmi,
        "--out",
        "trainops.yaml",
      ],
      { cwd: home },
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^PASS {2}vesuvius_challenge {2}connection /m);
    expect(result.stdout).toMatch(
      /^FAIL {2}vesuvius_challenge {2}log .*runs\/missing\.log not readable — fix: check runs\[\]\.workdir and runs\[\]\.log$/m,
    );
    expect(result.stdout).toContain(
      "Some checks failed: fix the FAIL lines above in trainops.yaml, then run trainops check --config trainops.yaml",
    );
    expect(loadConfig(join(home, "trainops.yaml"), { env: {} }).runs[0]?.ssh).toBe("local");
  });
});
