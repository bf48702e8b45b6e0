import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.ts";
import type { ClassifiedEvent } from "../../src/model/monitoring.ts";
import { RunMonitor } from "../../src/monitors/run-monitor.ts";
import { openDatabase } from "../../src/store/database.ts";
import { createMonitorStore } from "../../src/store/monitor-store.ts";
import { SshTransport } from "../../src/transport/ssh-transport.ts";
import { CountingTransport } from "../harness/counting-transport.ts";
import { OOM_TRACEBACK, stepLine } from "../harness/fake-run-dir.ts";
import { useSshdRunDirs } from "../harness/sshd-run-dirs.ts";
import { waitUntil } from "../harness/wait.ts";

const vm = useSshdRunDirs("trainops-wakes-");

/** Waits for what the follow stream has done; it streams within milliseconds. */
function until(condition: () => boolean, what: string): Promise<boolean> {
  return waitUntil(condition, { timeoutMs: 10_000, intervalMs: 20, what });
}

function setup(followWakes: "errors" | "all") {
  const { run, workdir, logPath } = vm.runDir(followWakes, {
    name: `wakes-${followWakes}`,
    log: "train.log",
    content: `${stepLine(1)}\n`,
    followWakes,
  });
  const transport = new CountingTransport(new SshTransport(run.ssh));
  const followed: ClassifiedEvent[] = [];
  const monitor = new RunMonitor({
    run,
    transport,
    store: createMonitorStore(openDatabase(join(workdir, "trainops.db"))),
    clock: new ManualClock(),
    onFollowEvents: (_run, events) => followed.push(...events),
  });
  return { monitor, transport, logPath, followed };
}

describe("follow wake-ups", () => {
  it("with followWakes: errors, progress lines read nothing until the poll; an OOM is read at once", async () => {
    const f = setup("errors");
    try {
      await f.monitor.pollOnce();
      await f.monitor.startFollow();
      const before = f.transport.scripts;
      appendFileSync(f.logPath, `${stepLine(2)}\n${stepLine(3)}\n`);
      // Barrier: the monitor has handled the streamed progress bytes.
      await until(() => f.transport.chunks >= 1, "the progress bytes to stream");
      expect(f.transport.scripts).toBe(before);

      appendFileSync(f.logPath, `${OOM_TRACEBACK.join("\n")}\n`);
      await until(() => f.followed.length > 0, "the OOM from the follow stream");
      expect(f.followed.map((e) => e.kind)).toEqual(["cuda_oom"]);
      expect(f.transport.scripts).toBeGreaterThan(before);
      // The poll still has every progress line.
      expect((await f.monitor.pollOnce()).sample.step).toBe(3);
    } finally {
      await f.monitor.stopFollow();
      await f.transport.close();
    }
  });

  it("with followWakes: all, progress lines are read as they stream", async () => {
    const f = setup("all");
    try {
      await f.monitor.pollOnce();
      await f.monitor.startFollow();
      const before = f.transport.scripts;
      appendFileSync(f.logPath, `${stepLine(2)}\n`);
      await until(() => f.transport.chunks >= 1, "the progress bytes to stream");
      expect(f.transport.scripts).toBe(before + 1);
    } finally {
      await f.monitor.stopFollow();
      await f.transport.close();
    }
  });
});
