import { describe, expect, it } from "vitest";
import {
  parseComputeApps,
  parseGpuQuery,
} from "../../../src/monitors/parsers/nvidia-smi-parser.ts";
import { sampleBytes } from "./corpus-sample.ts";

const text = (name: string) => sampleBytes(name).toString("utf8");

describe("parseGpuQuery", () => {
  it("smi_07: no header, no units, padded fields (the probe's own query order)", () => {
    const result = parseGpuQuery(text("smi_07_query_gpu_noheader_nounits_padded_fields.txt"), [
      "index",
      "name",
      "memory.used",
      "memory.total",
      "utilization.gpu",
      "temperature.gpu",
    ]);
    expect(result).toEqual({
      ok: true,
      value: [
        {
          index: 0,
          name: "NVIDIA GeForce RTX 3060",
          memoryUsedMiB: 0,
          memoryTotalMiB: 12288,
          utilizationPercent: 0,
          temperatureC: 42,
          powerW: null,
        },
        {
          index: 1,
          name: "NVIDIA GeForce RTX 5060 Ti",
          memoryUsedMiB: 15868,
          memoryTotalMiB: 16311,
          utilizationPercent: 100,
          temperatureC: 67,
          powerW: null,
        },
      ],
    });
  });

  it("smi_05: a header with [MiB] and units in every value", () => {
    const result = parseGpuQuery(text("smi_05_query_gpu_csv_header_units.txt"));
    expect(
      result.ok && result.value.map((g) => [g.index, g.memoryUsedMiB, g.memoryTotalMiB]),
    ).toEqual([
      [0, 103, 16303],
      [1, 8311, 16303],
    ]);
  });

  it("sys_06: [N/A] memory on unified-memory GPUs is unknown, not zero", () => {
    const csv = text("sys_06_free_h_Gi_suffix_comma_decimal_locale_and_csv_na.txt")
      .split("\n")
      .slice(1, 3)
      .join("\n");
    const result = parseGpuQuery(csv);
    expect(result.ok && result.value[0]).toMatchObject({
      memoryUsedMiB: null,
      memoryTotalMiB: null,
    });
  });

  it("the probe's full query with [N/A], [Not Supported] and decimals", () => {
    const result = parseGpuQuery(
      "0, NVIDIA H100 80GB HBM3, 77312, 81559, 0, 45, 118.52\n1, NVIDIA GB10, [N/A], [N/A], 3, 36, [Not Supported]\n",
    );
    expect(result).toEqual({
      ok: true,
      value: [
        {
          index: 0,
          name: "NVIDIA H100 80GB HBM3",
          memoryUsedMiB: 77312,
          memoryTotalMiB: 81559,
          utilizationPercent: 0,
          temperatureC: 45,
          powerW: 118.52,
        },
        {
          index: 1,
          name: "NVIDIA GB10",
          memoryUsedMiB: null,
          memoryTotalMiB: null,
          utilizationPercent: 3,
          temperatureC: 36,
          powerW: null,
        },
      ],
    });
  });

  it("smi_09 and other failures give a reason, never a throw", () => {
    expect(parseGpuQuery(text("smi_09_nvidia_smi_failed_driver_curly_quote.txt"))).toMatchObject({
      ok: false,
      reason: "driver_unavailable",
    });
    expect(
      parseGpuQuery(
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.",
      ),
    ).toMatchObject({ ok: false, reason: "driver_unavailable" });
    expect(parseGpuQuery("sh: 1: nvidia-smi: not found")).toMatchObject({
      ok: false,
      reason: "not_installed",
    });
    expect(parseGpuQuery("bash: nvidia-smi: command not found\n")).toMatchObject({
      ok: false,
      reason: "not_installed",
    });
    expect(parseGpuQuery("No devices were found")).toMatchObject({
      ok: false,
      reason: "no_devices",
    });
    expect(parseGpuQuery("  \n")).toMatchObject({ ok: false, reason: "empty" });
    expect(parseGpuQuery("| NVIDIA-SMI 535.54.04  Driver Version: 536.23 |")).toMatchObject({
      ok: false,
      reason: "unparsable",
    });
  });
});

describe("parseComputeApps", () => {
  it("reads pid and used memory; [N/A] memory (WSL, other namespaces) is null", () => {
    expect(parseComputeApps("3518784, 452\n837, [N/A]\n")).toEqual({
      ok: true,
      value: [
        { pid: 3518784, usedMiB: 452 },
        { pid: 837, usedMiB: null },
      ],
    });
    expect(parseComputeApps("pid, used_gpu_memory [MiB]\n12, 77000 MiB")).toEqual({
      ok: true,
      value: [{ pid: 12, usedMiB: 77000 }],
    });
  });

  it("no output means no GPU processes; a driver failure is a failure", () => {
    expect(parseComputeApps("")).toEqual({ ok: true, value: [] });
    expect(parseComputeApps(text("smi_09_nvidia_smi_failed_driver_curly_quote.txt"))).toMatchObject(
      { ok: false, reason: "driver_unavailable" },
    );
  });
});
