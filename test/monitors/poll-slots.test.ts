import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSchema } from "../../src/config/schema.ts";
import { systemClock } from "../../src/core/clock.ts";
import { startHttpEndpoint } from "../../src/daemon/http-endpoint.ts";
import { registerPollMetrics } from "../../src/daemon/poll-metrics.ts";
import { PollScheduler, type RoundOverrun } from "../../src/monitors/poll-scheduler.ts";
import { RunMonitor } from "../../src/monitors/run-monitor.ts";
import { hostPolling } from "../../src/runtime/host-polling.ts";
import { openDatabase } from "../../src/store/database.ts";
import { createMonitorStore, type MonitorStore } from "../../src/store/monitor-store.ts";
import { HostTransportPool } from "../../src/transport/host-transport-pool.ts";
import { createFakeRunDir, stepLine } from "../harness/fake-run-dir.ts";
import { type SshdHarness, startSshd } from "../harness/sshd.ts";

let sshd: SshdHarness;
let root: string;

beforeAll(async () => {
  sshd = await startSshd();
  root = mkdtempSync(join(tmpdir(), "trainops-poll-slots-"));
});

afterAll(async () => {
  await sshd?.stop();
  rmSync(root, { recursive: true, force: true });
});

/**
 * An nvidia-smi that answers only while the file `open` exists on the VM: the test decides
 * when a host's probe may end (a slow VM, without sleeping on either side).
 */
function barrierSmi(dir: string): {
  path: string;
  open(): void;
  close(): void;
  calls(): number;
} {
  const path = join(dir, "nvidia-smi");
  const open = join(dir, "open");
  const calls = join(dir, "calls");
  writeFileSync(calls, "");
  writeFileSync(
    path,
    `#!/bin/sh\necho call >> ${calls}\nwhile [ ! -e ${open} ]; do sleep 0.02; done\ncase "$*" in *query-gpu*) echo "0, NVIDIA A100-SXM4-80GB, 78822, 81920, 7, 36, 83.10";; *) ;; esac\n`,
    { mode: 0o755 },
  );
  return {
    path,
    open: () => writeFileSync(open, ""),
    close: () => {
      if (existsSync(open)) unlinkSync(open);
    },
    /** nvidia-smi calls begun so far (a probe makes two: GPUs, then their processes). */
    calls: () => readFileSync(calls, "utf8").split("\n").length - 1,
  };
}

/**
 * `hosts` hosts of two runs each over the one real sshd: their `ssh:` settings differ (the
 * connect timeout), so the pool gives each its own connection, as for distinct VMs.
 */
function fleet(name: string, hosts: number) {
  const dir = mkdtempSync(join(root, `${name}-`));
  const smi = barrierSmi(dir);
  smi.open();
  const store: MonitorStore = createMonitorStore(openDatabase(join(dir, "trainops.db")));
  const pool = new HostTransportPool();
  const monitors = Array.from({ length: hosts * 2 }, (_, i) => {
    const { workdir } = createFakeRunDir(join(dir, `run${i}`), "train.log", `${stepLine(5)}\n`);
    const run = runSchema.parse({
      name: `${name}-h${i % hosts}-r${i}`,
      ssh: { ...sshd.runConfigSsh(), connectTimeout: `${10 + (i % hosts)}s` },
      workdir,
      log: "train.log",
      nvidiaSmi: smi.path,
    });
    return new RunMonitor({ run, transport: pool.get(run), store, clock: systemClock });
  });
  const hostOf = (run: string) => Number(/-h(\d+)-/.exec(run)?.[1]);
  return {
    store,
    smi,
    monitors,
    pool,
    hostOf,
    /** When each run's polls started (ms since the epoch), oldest first. */
    startsOf: (run: string) =>
      store.polls
        .recent(run, 100)
        .map((p) => p.startedAt)
        .sort((a, b) => a - b),
    close: () => Promise.all(monitors.map((m) => m.transport.close())),
  };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("poll slots over a real sshd", () => {
  it("spreads the first round: each host's first connection and probe wait for its own jittered slot", async () => {
    const f = fleet("first", 3);
    const scheduler = new PollScheduler({
      expression: "1h",
      monitors: f.monitors,
      hosts: hostPolling(f.store, systemClock),
      onPolled: () => {},
      firstRoundMsPerHost: 400,
      random: () => 0.75,
    });
    const t0 = Date.now();
    scheduler.start();
    // No connection before the first slot: 3 hosts over 1.2 s, the first at (0 + 0.75) / 3.
    expect(sshd.connectionCount()).toBe(0);
    await until(() => f.monitors.every((m) => f.startsOf(m.name).length === 1), "first polls");
    await scheduler.stop();
    // Each host's slot: (rank + jitter) / hosts of the first round's 1.2 s spread. Hosts are
    // ranked by a hash of their first run's name, so each one's slot is one of these, once.
    const slots = [0, 1, 2].map((rank) => ((rank + 0.75) / 3) * 1200);
    const firstStarts = [0, 1, 2].map(
      (host) =>
        Math.min(
          ...f.monitors
            .filter((m) => f.hostOf(m.name) === host)
            .map((m) => f.startsOf(m.name)[0] as number),
        ) - t0,
    );
    const ordered = [...firstStarts].sort((a, b) => a - b);
    ordered.forEach((start, i) => {
      expect(start).toBeGreaterThanOrEqual((slots[i] as number) - 5);
    });
    // The runs of one host are probed together: both got their first sample in that probe.
    for (const host of [0, 1, 2]) {
      const starts = f.monitors
        .filter((m) => f.hostOf(m.name) === host)
        .map((m) => f.startsOf(m.name)[0]);
      expect(new Set(starts).size).toBe(1);
    }
    expect(f.pool.size).toBe(3);
    await f.close();
  });

  it("spreads the first polls over the start-up window: a host due before the next tick is polled by a first round, one due after it by the tick's round at its own time", async () => {
    const f = fleet("deferred", 2);
    const scheduler = new PollScheduler({
      expression: "*/4 * * * * *",
      monitors: f.monitors,
      hosts: hostPolling(f.store, systemClock),
      onPolled: () => {},
      // A slow pace: the window is 80 % of the 4 s interval, 3.2 s. Slots at 0.05 and 0.55 of
      // it: 160 ms and 1,760 ms after start.
      firstRoundMsPerHost: 60_000,
      random: () => 0.1,
    });
    // Start 2.6 s into the interval: the next tick is 1.4 s away, between the two slots.
    await until(() => Date.now() % 4000 >= 2600 && Date.now() % 4000 < 2700, "the start phase");
    const t0 = Date.now();
    const tick = Math.ceil(t0 / 4000) * 4000;
    scheduler.start();
    await until(() => f.monitors.every((m) => f.startsOf(m.name).length >= 1), "first polls");
    await scheduler.stop();
    const firsts = [0, 1]
      .map((host) =>
        Math.min(
          ...f.monitors
            .filter((m) => f.hostOf(m.name) === host)
            .map((m) => f.startsOf(m.name)[0] as number),
        ),
      )
      .sort((a, b) => a - b) as [number, number];
    // The first host in a first round of its own, before the tick.
    expect(firsts[0]).toBeGreaterThanOrEqual(t0 + 160 - 5);
    expect(firsts[0]).toBeLessThan(tick);
    // The second in the tick's round, at its time in the window, not at its slot of the
    // round (0.55 of half the interval after the tick, 1,100 ms), and within one interval.
    expect(firsts[1]).toBeGreaterThanOrEqual(t0 + 1760 - 5);
    expect(firsts[1]).toBeLessThan(tick + 1100);
    expect(scheduler.stats().rounds).toBe(2);
    await f.close();
  });

  it("waits at a host's slot for its previous poll (no overrun); a round that begins while that poll still waits skips the host, and /metrics says so", async () => {
    const f = fleet("slot", 1);
    const overruns: RoundOverrun[] = [];
    const scheduler = new PollScheduler({
      expression: "1h",
      monitors: f.monitors,
      hosts: hostPolling(f.store, systemClock),
      onPolled: () => {},
      onOverrun: (overrun) => overruns.push(overrun),
      // The one host's slot: half-way through a 2 s spread.
      spreadMs: 2000,
      random: () => 0.5,
    });
    const registry = new Registry();
    registerPollMetrics(registry, () => scheduler.stats());
    const http = await startHttpEndpoint({
      host: "127.0.0.1",
      port: 0,
      registry,
      health: () => null,
    });
    const metric = async (name: string) => {
      const text = await (await fetch(`http://127.0.0.1:${http.port}/metrics`)).text();
      return Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
    };
    const [a, b] = f.monitors.map((m) => m.name) as [string, string];
    const polled = () => f.startsOf(a).length;

    // Round 1: the probe hangs on the VM, past round 2's slot; round 2's poll waits for it.
    f.smi.close();
    scheduler.tick();
    await until(() => f.smi.calls() === 1, "round 1's probe to run");
    scheduler.tick();
    // Round 3 begins while round 2's poll still waits: it skips both runs of the host, once.
    scheduler.tick();
    await until(() => scheduler.stats().skipped === 2, "round 3's skips");
    expect(overruns).toEqual([{ skipped: [a, b], runs: 0 }]);
    expect(await metric("trainops_poll_round_overruns_total")).toBe(1);
    expect(await metric("trainops_poll_skipped_total")).toBe(2);
    expect(f.store.polls.skippedSince(a, 0)).toBe(1);
    // Round 1's probe ends: round 2's poll follows, late but not lost.
    f.smi.open();
    await until(() => polled() === 2, "round 2's poll");
    expect(f.startsOf(b)).toHaveLength(2);
    expect(scheduler.stats()).toMatchObject({ rounds: 3, overruns: 1, skipped: 2 });
    await scheduler.stop();
    await http.close();
    await f.close();
  });
});
