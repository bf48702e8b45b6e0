import { describe, expect, it } from "vitest";
import { parseMeminfo } from "../../../src/monitors/parsers/meminfo-parser.ts";

describe("parseMeminfo", () => {
  it("uses MemAvailable: used = total - available", () => {
    const text =
      "MemTotal:       131072000 kB\nMemFree:         2000000 kB\nMemAvailable:   100000000 kB\nBuffers:          100 kB\nCached:  50000000 kB\nHugePages_Total:       0\n";
    expect(parseMeminfo(text)).toEqual({
      totalBytes: 131072000 * 1024,
      availableBytes: 100000000 * 1024,
      usedBytes: 31072000 * 1024,
    });
  });

  it("falls back to free + buffers + cached on kernels without MemAvailable", () => {
    // The numbers of sys_04 (free -m, procps 3.3.9): 284 free + 220 buffers + 1991 cached of 4045.
    const text =
      "MemTotal: 4142080 kB\nMemFree: 290816 kB\nBuffers: 225280 kB\nCached: 2038784 kB\n";
    const mem = parseMeminfo(text);
    expect(mem?.availableBytes).toBe((290816 + 225280 + 2038784) * 1024);
    expect(mem?.usedBytes).toBe((4142080 - 290816 - 225280 - 2038784) * 1024);
  });

  it("returns null for text that is not meminfo", () => {
    expect(parseMeminfo("")).toBeNull();
    expect(parseMeminfo("cat: /proc/meminfo: No such file or directory")).toBeNull();
  });
});
