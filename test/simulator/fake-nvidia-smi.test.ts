import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { parseComputeApps, parseGpuQuery } from "../../src/monitors/parsers/nvidia-smi-parser.ts";
import { installFakeNvidiaSmi, setFakeNvidiaSmiMode } from "../../src/simulator/fake-nvidia-smi.ts";
import { GpuStateWriter } from "../../src/simulator/gpu-state.ts";

const root = mkdtempSync(join(tmpdir(), "trainops-smi-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const GPU_QUERY =
  "--query-gpu=index,name,memory.used,memory.total,utilization.gpu,temperature.gpu,power.draw";
const APPS_QUERY = "--query-compute-apps=pid,used_memory";
const CSV = "--format=csv,noheader,nounits";

/** A fresh fake with its own state dir. */
function install(name: string) {
  const stateDir = join(root, name, "state");
  const smi = join(root, name, "bin/nvidia-smi");
  installFakeNvidiaSmi(smi, stateDir);
  const run = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(smi, args, { env: {} });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  return { stateDir, smi, run };
}

describe("fake nvidia-smi", () => {
  it("reports an idle A100 and no compute apps when no simulator runs", async () => {
    const { run } = install("idle");
    const gpu = await run(GPU_QUERY, CSV);
    expect(gpu).toEqual({
      code: 0,
      stdout: "0, NVIDIA A100-SXM4-80GB, 5, 81920, 0, 31, 58.43\n",
      stderr: "",
    });
    expect(await run(APPS_QUERY, CSV)).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("answers both CSV queries from a live simulator's state", async () => {
    const { stateDir, run } = install("live");
    // This test process stands in for the trainer: the fake checks the pid is alive.
    new GpuStateWriter(stateDir).write({
      pid: process.pid,
      memoryUsedMiB: 78_912.4,
      memoryTotalMiB: 81_920,
      utilizationPercent: 61.6,
      temperatureC: 57.2,
      powerW: 259.123,
      processMemoryMiB: 78_908,
    });
    const gpu = await run(GPU_QUERY, CSV);
    expect(gpu.stdout).toBe("0, NVIDIA A100-SXM4-80GB, 78912, 81920, 62, 57, 259.12\n");
    expect(gpu.stdout.trim().split(", ")).toHaveLength(7);
    const parsed = parseGpuQuery(gpu.stdout);
    expect(parsed).toEqual({
      ok: true,
      value: [
        {
          index: 0,
          name: "NVIDIA A100-SXM4-80GB",
          memoryUsedMiB: 78912,
          memoryTotalMiB: 81920,
          utilizationPercent: 62,
          temperatureC: 57,
          powerW: 259.12,
        },
      ],
    });
    const apps = await run(APPS_QUERY, CSV);
    expect(apps.stdout).toBe(`${process.pid}, 78908\n`);
    expect(parseComputeApps(apps.stdout)).toEqual({
      ok: true,
      value: [{ pid: process.pid, usedMiB: 78908 }],
    });

    // With header and units, as `--format=csv` prints them.
    const withUnits = await run(GPU_QUERY, "--format=csv");
    expect(withUnits.stdout.split("\n")[0]).toBe(
      "index, name, memory.used [MiB], memory.total [MiB], utilization.gpu [%], temperature.gpu, power.draw [W]",
    );
    expect(withUnits.stdout.split("\n")[1]).toBe(
      "0, NVIDIA A100-SXM4-80GB, 78912 MiB, 81920 MiB, 62 %, 57, 259.12 W",
    );

    // The plain table carries the same numbers and the process.
    const table = await run();
    expect(table.stdout).toContain("|  78912MiB / 81920MiB |");
    expect(table.stdout).toContain("    62%      Default |");
    expect(table.stdout).toMatch(
      new RegExp(`\\|\\s+0\\s+N/A\\s+N/A\\s+${process.pid}\\s+C\\s+python\\s+78908MiB \\|`),
    );
    for (const line of table.stdout.split("\n").slice(1, -1)) {
      if (line !== "") expect(line).toHaveLength(89);
    }
  });

  it("reports idle again when the state's process has exited", async () => {
    const { stateDir, run } = install("dead");
    writeFileSync(join(stateDir, "gpu"), "2147483646 78000 81920 50 55 250.00 77996\n");
    expect((await run(GPU_QUERY, CSV)).stdout).toBe(
      "0, NVIDIA A100-SXM4-80GB, 5, 81920, 0, 31, 58.43\n",
    );
    expect((await run(APPS_QUERY, CSV)).stdout).toBe("");
  });

  it("fails like a machine whose driver is gone, and recovers", async () => {
    const { stateDir, run } = install("driver");
    setFakeNvidiaSmiMode(stateDir, "driver-failed");
    for (const args of [[GPU_QUERY, CSV], [APPS_QUERY, CSV], []]) {
      const result = await run(...args);
      expect(result.code).toBe(9);
      expect(result.stdout).toBe(
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n",
      );
    }
    const parsed = parseGpuQuery((await run(GPU_QUERY, CSV)).stdout);
    expect(parsed.ok).toBe(false);
    setFakeNvidiaSmiMode(stateDir, "ok");
    expect((await run(GPU_QUERY, CSV)).code).toBe(0);
  });

  it("prints [N/A] fields in na mode and rejects arguments it does not know", async () => {
    const { stateDir, run } = install("na");
    setFakeNvidiaSmiMode(stateDir, "na");
    expect((await run(GPU_QUERY, CSV)).stdout).toBe(
      "0, NVIDIA A100-SXM4-80GB, [N/A], 81920, [N/A], 31, [N/A]\n",
    );
    const bad = await run("--query-gpu=index", "--format=xml");
    expect(bad.code).toBe(2);
    expect(bad.stdout).toContain("Invalid combination of input arguments");
    const field = await run("--query-gpu=index,clocks.bogus", CSV);
    expect(field.code).toBe(2);
    expect(field.stderr).toContain('Field "clocks.bogus" is not a valid field to query.');
  });

  it("never answers in hang mode (for probe timeouts)", async () => {
    const { stateDir, smi } = install("hang");
    setFakeNvidiaSmiMode(stateDir, "hang");
    const result = await promisify(execFile)(smi, [GPU_QUERY, CSV], { timeout: 300 }).catch(
      (error: { killed?: boolean; signal?: string }) => error,
    );
    expect(result).toMatchObject({ killed: true, signal: "SIGTERM" });
  });
});
