import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.ts";
import {
  KernelLogIngestor,
  type KernelProbeSections,
} from "../../src/monitors/kernel-log-ingestor.ts";
import { kernelSourcesScript } from "../../src/monitors/probe/kernel-sources-script.ts";
import { splitSections } from "../../src/monitors/probe/probe-output.ts";
import { openDatabase } from "../../src/store/database.ts";
import { createMonitorStore, type MonitorStore } from "../../src/store/monitor-store.ts";
import { LocalTransport } from "../../src/transport/local-transport.ts";

/**
 * The kernel news of one run across polls: each probe is the real kernel part of the script,
 * built from the ingestor's own request and run by sh against a `dmesg` printing a ring file;
 * what it finds lands in a real SQLite store.
 */
let dir: string;
let dbCount = 0;
const transport = new LocalTransport();
const RUN = "kernel";

const OOM = (pid: number) =>
  `Out of memory: Killed process ${pid} (python3) total-vm:1kB, anon-rss:1kB`;
const OOM_AT = (stamp: string, pid: number) => `[${stamp}] ${OOM(pid)}`;
const XID_AT = (stamp: string) =>
  `[${stamp}] NVRM: Xid (PCI:0000:3b:00): 79, pid=2222, GPU has fallen off the bus.`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "trainops-kernel-ingestor-"));
  writeFileSync(join(dir, "dmesg"), `#!/bin/sh\ncat ${dir}/ring.txt\n`);
  chmodSync(join(dir, "dmesg"), 0o755);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function setRing(lines: string[]): void {
  writeFileSync(join(dir, "ring.txt"), `${lines.join("\n")}\n`);
}

function fixture(): { store: MonitorStore; clock: ManualClock; kernel: KernelLogIngestor } {
  const store = createMonitorStore(openDatabase(join(dir, `trainops-${dbCount++}.db`)));
  const clock = new ManualClock();
  return { store, clock, kernel: new KernelLogIngestor({ run: RUN, store, clock }) };
}

/** The run's log position as its first log read stores it (no kernel mark yet). */
function storeLogPosition(store: MonitorStore, clock: ManualClock): void {
  store.offsets.set(
    RUN,
    { inode: "1", offset: 0, partial: Buffer.alloc(0), lineCount: 0, kernelMark: null, anchor: "" },
    clock.now(),
  );
}

/** Runs the kernel part of the probe the ingestor asks for, as a poll at `uptime` would. */
async function probe(kernel: KernelLogIngestor, uptime: number): Promise<KernelProbeSections> {
  const script = [
    `PATH=${dir}:$PATH; M=@@k; up=${uptime}`,
    kernelSourcesScript(kernel.probeRequest()),
    "printf '%s end\\n' \"$M\"",
  ].join("\n");
  const sections = splitSections((await transport.run(script)).stdout.toString("utf8"), "@@k");
  return {
    kernel: sections.get("kernel") ?? "",
    cgroup: sections.get("cgroup") ?? "",
    oom: sections.get("oom") ?? "",
    uptime: `${uptime} 1.00`,
  };
}

describe("KernelLogIngestor", () => {
  it("stores nothing before the run's log position exists, then takes what was there as history", async () => {
    const { store, clock, kernel } = fixture();
    setRing([OOM_AT("10.000000", 111)]);
    expect(kernel.source).toBeNull();
    expect(kernel.ingest(await probe(kernel, 100), null)).toEqual([]);
    expect(kernel.source).toBe("dmesg");
    expect(store.offsets.get(RUN)).toBeNull();

    storeLogPosition(store, clock);
    expect(kernel.ingest(await probe(kernel, 100), null)).toEqual([]);
    expect(kernel.probeRequest().kernelMark).toBe(10);
    expect(store.events.recent(RUN)).toEqual([]);
  });

  it("stores each new OOM-killer and Xid line once, with the mark moved past it", async () => {
    const { store, clock, kernel } = fixture();
    setRing([OOM_AT("10.000000", 111)]);
    storeLogPosition(store, clock);
    kernel.ingest(await probe(kernel, 100), null);

    setRing([
      OOM_AT("10.000000", 111),
      "[   20.000000] usb 1-1: new high-speed USB device number 2",
      OOM_AT("30.500000", 333),
      XID_AT("31.000000"),
    ]);
    clock.advance(5_000);
    const events = kernel.ingest(await probe(kernel, 100), 4242);
    expect(events.map((e) => [e.kind, e.source])).toEqual([
      ["host_oom_kill", "kernel"],
      ["gpu_fault", "kernel"],
    ]);
    expect(events[0]?.line).toContain("Killed process 333");
    expect(kernel.probeRequest()).toMatchObject({ kernelMark: 31, cgroupPid: 4242 });
    expect(store.offsets.get(RUN)?.kernelMark).toBe(31);
    expect(store.events.recent(RUN).map((e) => e.kind)).toEqual(
      expect.arrayContaining(["host_oom_kill", "gpu_fault"]),
    );
    expect(store.events.recent(RUN)).toHaveLength(2);

    // The same ring on the next poll: nothing is news twice.
    expect(kernel.ingest(await probe(kernel, 100), 4242)).toEqual([]);
    expect(store.events.recent(RUN)).toHaveLength(2);
  });

  it("takes every line as new after a reboot (uptime below the mark)", async () => {
    const { store, clock, kernel } = fixture();
    setRing([OOM_AT("500.000000", 111)]);
    storeLogPosition(store, clock);
    kernel.ingest(await probe(kernel, 600), null);
    expect(kernel.probeRequest().kernelMark).toBe(500);

    setRing([OOM_AT("5.000000", 7)]);
    const events = kernel.ingest(await probe(kernel, 6), null);
    expect(events.map((e) => e.kind)).toEqual(["host_oom_kill"]);
    expect(kernel.probeRequest().kernelMark).toBe(5);
  });

  it("reads the journal after its cursor, and keeps the trainer's cgroup for the next probe", () => {
    const { store, clock, kernel } = fixture();
    storeLogPosition(store, clock);
    const sections = (kernel: string, oomKill: number): KernelProbeSections => ({
      kernel,
      cgroup: "0::/user.slice/train.scope\n",
      oom: `/sys/fs/cgroup/user.slice/train.scope/memory.events oom_kill ${oomKill}\n`,
      uptime: "200.00 1.00",
    });
    kernel.ingest(sections("source journal\n-- cursor: s=1\n", 0), 77);
    expect(kernel.source).toBe("journal");
    expect(kernel.probeRequest()).toEqual({
      kernelMark: 200,
      journalCursor: "s=1",
      cgroupPid: 77,
      cgroupFiles: ["/sys/fs/cgroup/user.slice/train.scope/memory.events"],
    });

    // A kernel log was read: the counter's rise beside its line is not a second event.
    const later = `source journal\n[  250.000000] vm kernel: ${OOM(9)}\n-- cursor: s=2\n`;
    const news = kernel.ingest(sections(later, 1), null);
    expect(news.map((e) => [e.kind, e.line])).toEqual([["host_oom_kill", OOM(9)]]);
    expect(kernel.probeRequest()).toMatchObject({
      kernelMark: 250,
      journalCursor: "s=2",
      cgroupPid: 77,
    });
  });

  it("reports rises of the cgroup OOM counter when no kernel log can be read", () => {
    const { store, clock, kernel } = fixture();
    storeLogPosition(store, clock);
    const none = (oomKill: number): KernelProbeSections => ({
      kernel:
        "source none\ndmesg-error dmesg: read kernel buffer failed: Operation not permitted\njournal-error Hint: not permitted\n",
      cgroup: "",
      oom: `/sys/fs/cgroup/train/memory.events oom_kill ${oomKill}\n`,
      uptime: "100.00 1.00",
    });
    expect(kernel.ingest(none(3), 5)).toEqual([]);
    expect(kernel.source).toBe("none");
    const rise = kernel.ingest(none(5), 5);
    expect(rise).toMatchObject([
      { kind: "host_oom_kill", source: "kernel", detail: { source: "cgroup", kills: 2 } },
    ]);
    expect(store.events.recent(RUN).map((e) => e.kind)).toEqual(["host_oom_kill"]);
  });
});
