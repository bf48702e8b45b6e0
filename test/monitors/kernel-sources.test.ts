import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cgroupCounterFiles,
  OomCounterWatch,
  parseKernelSection,
  parseOomCounters,
} from "../../src/monitors/kernel-sources.ts";
import { kernelSourcesScript } from "../../src/monitors/probe/kernel-sources-script.ts";
import { splitSections } from "../../src/monitors/probe/probe-output.ts";
import { LocalTransport } from "../../src/transport/local-transport.ts";

/** The kernel part of the probe, run by sh with a `dmesg` that prints a fixed ring buffer. */
let dir: string;
const transport = new LocalTransport();

const RING = [
  "[   10.000000] Out of memory: Killed process 111 (python3) total-vm:1kB, anon-rss:1kB",
  "[   20.000000] usb 1-1: new high-speed USB device number 2",
  "[   30.500000] oom-kill:constraint=CONSTRAINT_NONE,task=pt_data_worker,pid=333,uid=0",
].join("\n");

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "trainops-kernel-sources-"));
  writeFileSync(join(dir, "ring.txt"), `${RING}\n`);
  writeFileSync(join(dir, "dmesg"), `#!/bin/sh\ncat ${dir}/ring.txt\n`);
  chmodSync(join(dir, "dmesg"), 0o755);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function kernelSection(mark: number | null, uptime: number, files: string[] = []) {
  const script = [
    `PATH=${dir}:$PATH; M=@@k; up=${uptime}`,
    kernelSourcesScript({
      kernelMark: mark,
      journalCursor: null,
      cgroupPid: null,
      cgroupFiles: files,
    }),
    "printf '%s end\\n' \"$M\"",
  ].join("\n");
  const sections = splitSections((await transport.run(script)).stdout.toString("utf8"), "@@k");
  return {
    kernel: parseKernelSection(sections.get("kernel") ?? ""),
    oom: sections.get("oom") ?? "",
  };
}

describe("the probe's kernel log reading", () => {
  it("sends only the matching dmesg lines stamped after the mark", async () => {
    const { kernel } = await kernelSection(15, 100);
    expect(kernel.source).toBe("dmesg");
    expect(kernel.lines).toBe(RING.split("\n")[2]);
  });

  it("sends every matching line before the first mark, and after a reboot (uptime below the mark)", async () => {
    const expected = [RING.split("\n")[0], RING.split("\n")[2]].join("\n");
    expect((await kernelSection(null, 100)).kernel.lines).toBe(expected);
    expect((await kernelSection(5000, 100)).kernel.lines).toBe(expected);
  });

  it("prints the cgroup counter files with builtins; the watch reports rises only", async () => {
    const events = join(dir, "memory.events");
    writeFileSync(events, "low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\noom_group_kill 0\n");
    const watch = new OomCounterWatch();
    expect(watch.update(parseOomCounters((await kernelSection(null, 100, [events])).oom))).toEqual(
      [],
    );
    writeFileSync(events, "low 0\nhigh 0\nmax 5\noom 2\noom_kill 2\noom_group_kill 0\n");
    const rise = watch.update(parseOomCounters((await kernelSection(null, 100, [events])).oom));
    expect(rise).toMatchObject([
      { kind: "host_oom_kill", source: "kernel", detail: { source: "cgroup", kills: 2 } },
    ]);
    expect(rise[0]?.line).toContain("(oom_kill 0 → 2)");
  });
});

describe("cgroupCounterFiles", () => {
  it("names memory.events for cgroup v2 and memory.oom_control for the v1 memory controller", () => {
    expect(
      cgroupCounterFiles(
        "0::/user.slice/user-1000.slice/session-3.scope\n4:memory:/process_api/abc\n3:cpuset:/\n",
      ),
    ).toEqual([
      "/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope/memory.events",
      "/sys/fs/cgroup/memory/process_api/abc/memory.oom_control",
    ]);
  });
});
