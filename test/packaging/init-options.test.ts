import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  type InitFlags,
  InitUsageError,
  validateInitFlags,
} from "../../src/cli/init/init-options.ts";
import { renderStarterConfig } from "../../src/cli/init/starter-config.ts";
import { parseConfig } from "../../src/config/load-config.ts";

const cwd = mkdtempSync(join(tmpdir(), "trainops-init-options-"));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

const base: InitFlags = {
  host: "gpu-vm",
  workdir: "/mnt/disks/data/repos/vesuvius_challenge",
  log: "runs/exp001_full/logs/train_full.log",
  out: "trainops.yaml",
  check: true,
};

function problems(flags: Partial<InitFlags>): string[] {
  try {
    validateInitFlags({ ...base, ...flags }, cwd);
  } catch (error) {
    if (error instanceof InitUsageError) return [...error.problems];
    throw error;
  }
  return [];
}

describe("validateInitFlags", () => {
  it("accepts the minimum and derives the run name from the workdir", () => {
    const options = validateInitFlags(base, cwd);
    expect(options.run).toBe("vesuvius_challenge");
    expect(options.ssh).toEqual({ host: "gpu-vm" });
    expect(options.out).toBe(join(cwd, "trainops.yaml"));
  });

  it.each([
    ["0", '--port "0" is not a port'],
    ["65536", '--port "65536" is not a port'],
    ["22x", '--port "22x" is not a port'],
    ["-1", '--port "-1" is not a port'],
  ])("rejects port %s", (port, message) => {
    expect(problems({ port })[0]).toContain(message);
  });

  it("names every problem at once, each with its fix", () => {
    const found = problems({ host: "  ", workdir: undefined, log: undefined, run: "-bad" });
    expect(found).toEqual([
      "--host is empty — fix: pass the VM's name, IP address or ~/.ssh/config alias",
      expect.stringContaining("--workdir is missing — fix:"),
      expect.stringContaining("--log is missing — fix:"),
      expect.stringContaining('--run "-bad" is not a run name — fix:'),
    ]);
  });

  it("wants a VM or --local, not both and not neither", () => {
    expect(problems({ host: undefined })[0]).toContain("no VM named — fix: pass --host HOST");
    expect(problems({ local: true })[0]).toContain("--local and --host exclude each other");
    expect(problems({ host: undefined, local: true, port: "22" })[0]).toContain(
      "--port has no effect with --local",
    );
  });

  it("checks local files and fingerprints", () => {
    expect(problems({ key: "nope/id_ed25519" })[0]).toBe(
      `--key ${join(cwd, "nope/id_ed25519")}: file not found — fix: pass an existing file`,
    );
    expect(problems({ hostKey: "md5:aa" })[0]).toContain(
      '--host-key "md5:aa" is not a fingerprint',
    );
    expect(problems({ workdir: "repos/x" })[0]).toContain(
      "is relative — fix: pass an absolute path",
    );
  });

  it("makes a relative key absolute, since the written file resolves against its own folder", () => {
    writeFileSync(join(cwd, "key"), "k");
    const options = validateInitFlags({ ...base, key: "key", port: "2222", user: "dylant" }, cwd);
    expect(options.ssh).toMatchObject({ privateKey: join(cwd, "key"), port: 2222, user: "dylant" });
  });
});

describe("renderStarterConfig", () => {
  it("renders a file that validates, quoting what YAML would misread", () => {
    const options = validateInitFlags(
      { ...base, workdir: "/data/run: #1", log: "logs/train.log", user: "yes", run: "exp.1" },
      cwd,
    );
    const config = parseConfig(renderStarterConfig(options), { env: {}, baseDir: cwd });
    expect(config.runs[0]).toMatchObject({
      name: "exp.1",
      workdir: "/data/run: #1",
      ssh: { host: "gpu-vm", user: "yes" },
      plan: "configs/plans/safe-optimization.yaml",
    });
    expect(config.http).toEqual({ port: 9464, host: "127.0.0.1" });
  });
});
