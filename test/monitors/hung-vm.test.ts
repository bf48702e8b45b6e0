import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSchema } from "../../src/config/schema.ts";
import { ManualClock } from "../../src/core/clock.ts";
import { RunMonitor } from "../../src/monitors/run-monitor.ts";
import { readRunStatus } from "../../src/monitors/run-status.ts";
import { openDatabase } from "../../src/store/database.ts";
import { createMonitorStore } from "../../src/store/monitor-store.ts";
import { SshTransport } from "../../src/transport/ssh-transport.ts";
import { createFakeRunDir, stepLine } from "../harness/fake-run-dir.ts";
import { type SshdHarness, startSshd } from "../harness/sshd.ts";
import { sessionProcesses } from "../harness/sshd-freeze.ts";

let sshd: SshdHarness;
let root: string;

beforeAll(async () => {
  sshd = await startSshd();
  root = mkdtempSync(join(tmpdir(), "trainops-hung-"));
});

afterAll(async () => {
  await sshd?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe("a VM whose SSH session hangs", () => {
  it("fails the poll at its deadline, reports the run unreachable, and replaces the connection", async () => {
    const { workdir, logPath, nvidiaSmi } = createFakeRunDir(join(root, "run"), "train.log");
    writeFileSync(logPath, `${stepLine(7)}\n`);
    const run = runSchema.parse({
      name: "exp1",
      // Long enough for a first probe on a busy CI machine; the hung poll waits it out once.
      ssh: { ...sshd.runConfigSsh(), execTimeout: "5s" },
      workdir,
      log: "train.log",
      nvidiaSmi,
      steps: { perEpoch: 4000, epochs: 32 },
    });
    if (run.ssh === "local") throw new Error("unexpected");
    const store = createMonitorStore(openDatabase(join(root, "trainops.db")));
    const transport = new SshTransport(run.ssh);
    const clock = new ManualClock();
    const monitor = new RunMonitor({ run, transport, store, clock });
    expect((await monitor.pollOnce()).outcome).toBe("ok");

    const frozen = sessionProcesses(sshd.pid);
    expect(frozen.length).toBeGreaterThan(0);
    for (const pid of frozen) process.kill(pid, "SIGSTOP");
    try {
      const hung = await monitor.pollOnce();
      expect(hung.outcome).toBe("unreachable");
      expect(hung.message).toMatch(/ran past 5000 ms|within 5000 ms/);
      const status = readRunStatus(store, "exp1");
      expect(status.reachable).toBe(false);
      expect(status.step).toBe(7);
      // The stuck connection is not waited on again: the next poll gets a new session.
      clock.advance(30_000);
      const next = await monitor.pollOnce();
      expect(next.outcome).toBe("ok");
      expect(transport.connectCount).toBe(2);
      expect(readRunStatus(store, "exp1").reachable).toBe(true);
    } finally {
      for (const pid of frozen) {
        try {
          process.kill(pid, "SIGCONT");
        } catch {
          // Ended meanwhile.
        }
      }
      await transport.close();
    }
  }, 60_000);
});
