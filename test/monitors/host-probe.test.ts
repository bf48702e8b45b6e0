import { spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type RunConfig, runSchema } from "../../src/config/schema.ts";
import { systemClock } from "../../src/core/clock.ts";
import { pollHost } from "../../src/monitors/host-poll.ts";
import { PollScheduler } from "../../src/monitors/poll-scheduler.ts";
import { type PollReport, RunMonitor } from "../../src/monitors/run-monitor.ts";
import { hostPolling } from "../../src/runtime/host-polling.ts";
import { openDatabase } from "../../src/store/database.ts";
import { createMonitorStore, type MonitorStore } from "../../src/store/monitor-store.ts";
import { createTransport } from "../../src/transport/create-transport.ts";
import { HostTransportPool } from "../../src/transport/host-transport-pool.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { CountingTransport } from "../harness/counting-transport.ts";
import { createFakeRunDir, stepLine } from "../harness/fake-run-dir.ts";
import { useSshdRunDirs } from "../harness/sshd-run-dirs.ts";

const vm = useSshdRunDirs("trainops-host-probe-");

/**
 * An nvidia-smi that writes one line per call (its query) to a count file on the VM, then
 * answers like the fake beside each run: what tells how often the host's GPUs were read.
 */
function countingNvidiaSmi(dir: string): { path: string; calls: () => string[] } {
  const path = join(dir, "nvidia-smi");
  const count = join(dir, "nvidia-smi.calls");
  writeFileSync(count, "");
  writeFileSync(
    path,
    `#!/bin/sh\ncase "$*" in *query-gpu*) echo gpu >> ${count}; echo "0, NVIDIA A100-SXM4-80GB, 78822, 81920, 7, 36, 83.10";; *) echo apps >> ${count};; esac\n`,
    { mode: 0o755 },
  );
  return {
    path,
    calls: () =>
      readFileSync(count, "utf8")
        .split("\n")
        .filter((l) => l !== ""),
  };
}

interface Host {
  runs: RunConfig[];
  logs: string[];
  monitors: RunMonitor[];
  store: MonitorStore;
  counting: CountingTransport[];
  smi: ReturnType<typeof countingNvidiaSmi>;
  close(): Promise<void>;
}

function hostOf(name: string, n: number): Host {
  const dir = join(vm.root, name);
  const smi = countingNvidiaSmi(mkdtempSync(join(vm.root, `${name}-smi-`)));
  const logs: string[] = [];
  const runs: RunConfig[] = Array.from({ length: n }, (_, i) => {
    const { run, logPath } = vm.runDir(join(name, `run${i}`), {
      name: `${name}-run${i}`,
      log: "train.log",
      content: `${stepLine(10 + i)}\n`,
      nvidiaSmi: smi.path,
    });
    logs.push(logPath);
    return run;
  });
  const store = createMonitorStore(openDatabase(join(dir, "trainops.db")));
  const counting: CountingTransport[] = [];
  const pool = new HostTransportPool((run) => {
    const transport = new CountingTransport(createTransport(run));
    counting.push(transport);
    return transport;
  });
  const transports = runs.map((run) => pool.get(run));
  const monitors = runs.map(
    (run, i) =>
      new RunMonitor({ run, transport: transports[i] as Transport, store, clock: systemClock }),
  );
  return {
    runs,
    logs,
    monitors,
    store,
    counting,
    smi,
    close: async () => {
      await Promise.all(transports.map((t) => t.close()));
    },
  };
}

const byRun = (reports: PollReport[]) => new Map(reports.map((r) => [r.run, r]));

describe("one probe per host per round, over a real sshd", () => {
  it("polls N runs of one host with one exec that reads nvidia-smi once; every run is sampled", async () => {
    const host = hostOf("five", 5);
    // A trainer of run 2 only: each run's process set is still its own.
    const trainer = spawn("/bin/sh", ["-c", "sleep 60; :", "train.py"], {
      cwd: host.runs[2]?.workdir,
      stdio: "ignore",
    });
    try {
      const reports = byRun(
        await pollHost(host.monitors, { store: host.store, clock: systemClock }),
      );
      expect(host.counting).toHaveLength(1);
      expect(host.counting[0]?.scripts).toBe(1);
      expect(vm.sshd.connectionCount()).toBe(1);
      // One GPU query and one GPU-process query for the whole host, not one per run.
      expect(host.smi.calls()).toEqual(["gpu", "apps"]);
      host.runs.forEach((run, i) => {
        const report = reports.get(run.name);
        expect(report?.outcome).toBe("ok");
        expect(report?.sample.step).toBe(10 + i);
        expect(report?.sample.gpus.map((g) => g.name)).toEqual(["NVIDIA A100-SXM4-80GB"]);
        expect(report?.sample.hostMemory?.totalBytes).toBeGreaterThan(0);
        expect(report?.sample.diskFreeBytes).toBeGreaterThan(0);
        expect(report?.sample.alive).toBe(i === 2);
      });

      // Next round: each run reads only its own new lines.
      host.logs.forEach((log, i) => {
        appendFileSync(log, `${stepLine(100 + i)}\n`);
      });
      const second = byRun(
        await pollHost(host.monitors, { store: host.store, clock: systemClock }),
      );
      expect(host.counting[0]?.scripts).toBe(2);
      expect(host.smi.calls()).toEqual(["gpu", "apps", "gpu", "apps"]);
      expect(host.runs.map((run) => second.get(run.name)?.sample.step)).toEqual([
        100, 101, 102, 103, 104,
      ]);
      expect(host.runs.map((run) => host.store.polls.recent(run.name, 10).length)).toEqual([
        2, 2, 2, 2, 2,
      ]);
    } finally {
      trainer.kill("SIGKILL");
      await host.close();
    }
  });

  it("a run's missing log is that run's degraded poll; the others stay ok, and it recovers", async () => {
    const host = hostOf("gone", 3);
    try {
      await pollHost(host.monitors, { store: host.store, clock: systemClock });
      const missing = host.logs[1] as string;
      renameSync(missing, `${missing}.away`);
      appendFileSync(host.logs[0] as string, `${stepLine(50)}\n`);
      const reports = byRun(
        await pollHost(host.monitors, { store: host.store, clock: systemClock }),
      );
      const [a, b, c] = host.runs.map((run) => reports.get(run.name));
      expect(a?.outcome).toBe("ok");
      expect(a?.sample.step).toBe(50);
      expect(b?.outcome).toBe("degraded");
      expect(b?.message).toContain(`log file ${missing} not found on the VM`);
      // The host answered: the run with no log still gets the host's facts.
      expect(b?.sample.reachable).toBe(true);
      expect(b?.sample.gpus).toHaveLength(1);
      expect(c?.outcome).toBe("ok");

      renameSync(`${missing}.away`, missing);
      appendFileSync(missing, `${stepLine(77)}\n`);
      const back = byRun(await pollHost(host.monitors, { store: host.store, clock: systemClock }));
      expect(host.runs.map((run) => back.get(run.name)?.outcome)).toEqual(["ok", "ok", "ok"]);
      expect(back.get(host.runs[1]?.name as string)?.sample.step).toBe(77);
    } finally {
      await host.close();
    }
  });

  it("the scheduler gives a host's runs one probe per round, and runs elsewhere their own", async () => {
    const host = hostOf("sched", 4);
    const dir = mkdtempSync(join(vm.root, "local-"));
    const { workdir } = createFakeRunDir(dir, "train.log", `${stepLine(3)}\n`);
    const localRun = runSchema.parse({
      name: "local-run",
      ssh: "local",
      workdir,
      log: "train.log",
    });
    const local = new RunMonitor({
      run: localRun,
      transport: createTransport(localRun),
      store: host.store,
      clock: systemClock,
    });
    const polled: PollReport[] = [];
    const polling = hostPolling(host.store, systemClock);
    const scheduler = new PollScheduler({
      expression: "1h",
      monitors: [...host.monitors, local],
      hosts: polling,
      onPolled: (report) => {
        polled.push(report);
      },
    });
    try {
      scheduler.tick({ spreadMs: 0 });
      await scheduler.stop();
      expect(polled.map((r) => r.run).sort()).toEqual(
        [...host.runs.map((r) => r.name), "local-run"].sort(),
      );
      expect(polled.every((r) => r.outcome === "ok" || r.outcome === "degraded")).toBe(true);
      expect(host.counting[0]?.scripts).toBe(1);
      expect(host.smi.calls()).toEqual(["gpu", "apps"]);
    } finally {
      await host.close();
    }
  });
});
