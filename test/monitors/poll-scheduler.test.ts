import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runSchema } from "../../src/config/schema.ts";
import { ManualClock } from "../../src/core/clock.ts";
import { PollScheduler, ScheduleError } from "../../src/monitors/poll-scheduler.ts";
import { type PollReport, RunMonitor } from "../../src/monitors/run-monitor.ts";
import { openDatabase } from "../../src/store/database.ts";
import { createMonitorStore } from "../../src/store/monitor-store.ts";
import type { ExecResult, FollowHandle, Transport } from "../../src/transport/transport.ts";

/** A VM that answers only when the test lets it: stands in for a slow or hung machine. */
class GatedTransport implements Transport {
  readonly description = "gated";
  private releases: Array<() => void> = [];
  calls = 0;

  run(): Promise<ExecResult> {
    this.calls += 1;
    return new Promise((_resolve, reject) => {
      this.releases.push(() => reject(new Error("VM did not answer")));
    });
  }

  release(): void {
    for (const release of this.releases.splice(0)) release();
  }

  /** Probes out and not answered yet. */
  get pending(): number {
    return this.releases.length;
  }

  async follow(): Promise<FollowHandle> {
    return { stop: async () => {} };
  }

  async close(): Promise<void> {}
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup(name = "exp001", clock = new ManualClock()) {
  const dir = mkdtempSync(join(tmpdir(), "trainops-sched-"));
  dirs.push(dir);
  const store = createMonitorStore(openDatabase(join(dir, "db.sqlite")));
  const transport = new GatedTransport();
  const run = runSchema.parse({ name, ssh: "local", workdir: dir, log: "train.log" });
  const monitor = new RunMonitor({ run, transport, store, clock });
  return { store, transport, monitor };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("PollScheduler", () => {
  it("never overlaps polls of one run: a late one waits for the previous, a third is skipped and recorded", async () => {
    const { store, transport, monitor } = setup();
    const reports: PollReport[] = [];
    const scheduler = new PollScheduler({
      expression: "*/30 * * * * *",
      monitors: [monitor],
      onPolled: (report) => {
        reports.push(report);
      },
    });
    scheduler.tick();
    scheduler.tick();
    scheduler.tick();
    expect(transport.calls).toBe(1);
    expect(store.polls.skippedSince("exp001", 0)).toBe(1);
    // The second round's poll starts once the first one is over.
    transport.release();
    await until(() => transport.calls === 2, "the waiting poll to start");
    transport.release();
    await scheduler.stop();
    expect(reports.map((r) => r.outcome)).toEqual(["unreachable", "unreachable"]);
    expect(store.polls.skippedSince("exp001", 0)).toBe(1);
    // Once the slow poll is over, the next tick polls again.
    scheduler.tick();
    expect(transport.calls).toBe(3);
    transport.release();
    await scheduler.stop();
  });

  it("runs at most maxConcurrent polls at once; the others start as slots free up", async () => {
    const runs = ["r1", "r2", "r3", "r4", "r5"].map((name) => setup(name));
    const scheduler = new PollScheduler({
      expression: "*/30 * * * * *",
      monitors: runs.map((r) => r.monitor),
      onPolled: () => {},
      maxConcurrent: 2,
    });
    const calls = () => runs.reduce((sum, r) => sum + r.transport.calls, 0);
    scheduler.tick();
    expect(calls()).toBe(2);
    for (const r of runs) r.transport.release();
    await until(() => calls() === 4, "two more polls to start");
    for (const r of runs) r.transport.release();
    await until(() => calls() === 5, "the last poll to start");
    for (const r of runs) r.transport.release();
    await scheduler.stop();
    expect(runs.map((r) => r.transport.calls)).toEqual([1, 1, 1, 1, 1]);
    expect(scheduler.stats()).toMatchObject({ rounds: 1, overruns: 0, skipped: 0 });
  });

  it("lets fewer probes run at once while they take a large share of their deadline, and more again once they are quick", async () => {
    // Each probe's time is what the shared clock moved while it was out (deadline: 30 s).
    const clock = new ManualClock();
    const runs = Array.from({ length: 40 }, (_, i) => setup(`c${i}`, clock));
    const scheduler = new PollScheduler({
      expression: "*/30 * * * * *",
      monitors: runs.map((r) => r.monitor),
      onPolled: () => {},
      maxConcurrent: 16,
    });
    const started = () => runs.reduce((sum, r) => sum + r.transport.calls, 0);
    const out = () => runs.reduce((sum, r) => sum + r.transport.pending, 0);
    scheduler.tick({ spreadMs: 0 });
    expect(started()).toBe(16);
    expect(scheduler.stats().concurrencyLimit).toBe(16);
    // The VMs are saturated: the 16 probes each took 25 s of their 30 s. The limit falls by a
    // third per 8 of them: 10, then 6; polls waiting for a slot start only as far as it allows.
    clock.advance(25_000);
    for (const r of runs) r.transport.release();
    await until(() => scheduler.stats().concurrencyLimit === 6, "the limit to fall");
    await until(() => out() === 6, "six probes out");
    expect(started()).toBe(22);
    // Quick again: each quick probe lets one more run at once, back up to 16.
    while (started() < 40 || out() > 0) {
      for (const r of runs) r.transport.release();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await scheduler.stop();
    expect(runs.every((r) => r.transport.calls === 1)).toBe(true);
    expect(scheduler.stats().concurrencyLimit).toBe(16);
  });

  it("keeps its limit when one hung VM runs every probe of its own into the deadline", async () => {
    const clock = new ManualClock();
    const runs = Array.from({ length: 8 }, (_, i) => setup(`h${i}`, clock));
    const scheduler = new PollScheduler({
      expression: "*/30 * * * * *",
      monitors: runs.map((r) => r.monitor),
      onPolled: () => {},
      maxConcurrent: 8,
    });
    const hung = runs[0] as (typeof runs)[number];
    for (let round = 1; round <= 4; round++) {
      scheduler.tick({ spreadMs: 0 });
      await until(() => runs.every((r) => r.transport.calls === round), `round ${round}`);
      // The healthy VMs answer at once; the hung one's probe is killed at its 30 s deadline.
      for (const r of runs.slice(1)) r.transport.release();
      const stored = (r: (typeof runs)[number]) =>
        r.store.polls.recent(r.monitor.name, 10).length === round;
      await until(() => runs.slice(1).every(stored), "the healthy VMs' polls stored");
      clock.advance(30_000);
      hung.transport.release();
      await until(() => stored(hung), "the hung VM's poll stored");
    }
    await scheduler.stop();
    expect(scheduler.stats().concurrencyLimit).toBe(8);
  });

  it("spreads a round's polls over spreadMs; stop() drops those not started yet", async () => {
    const runs = ["s1", "s2", "s3"].map((name) => setup(name));
    const wide = new PollScheduler({
      expression: "*/30 * * * * *",
      monitors: runs.map((r) => r.monitor),
      onPolled: () => {},
      spreadMs: 3_600_000,
    });
    wide.tick();
    // Every run has its own offset within the hour: none starts at the round's first instant.
    expect(runs.map((r) => r.transport.calls)).toEqual([0, 0, 0]);
    await wide.stop();
    expect(runs.map((r) => r.transport.calls)).toEqual([0, 0, 0]);
    // The start-up round is not spread: every run's first sample at once.
    wide.tick({ spreadMs: 0 });
    expect(runs.map((r) => r.transport.calls)).toEqual([1, 1, 1]);
    for (const r of runs) r.transport.release();
    await wide.stop();

    const reports: string[] = [];
    const narrow = new PollScheduler({
      expression: "*/30 * * * * *",
      monitors: runs.map((r) => r.monitor),
      onPolled: (report) => {
        reports.push(report.run);
      },
      spreadMs: 200,
    });
    narrow.tick();
    await until(() => runs.every((r) => r.transport.calls === 2), "every run to be polled");
    for (const r of runs) r.transport.release();
    await narrow.stop();
    expect(reports.sort()).toEqual(["s1", "s2", "s3"]);
  });

  it("reports a round that starts before the previous one finished", async () => {
    const slow = setup("slow");
    const fast = setup("fast");
    const overruns: Array<{ skipped: string[]; runs: number }> = [];
    const scheduler = new PollScheduler({
      expression: "*/30 * * * * *",
      monitors: [slow.monitor, fast.monitor],
      onPolled: () => {},
      onOverrun: (overrun) => overruns.push(overrun),
    });
    scheduler.tick();
    fast.transport.release();
    await until(
      () => scheduler.stats().skipped === 0 && fast.store.polls.recent("fast", 1).length === 1,
      "the fast poll to end",
    );
    // Round 2: the slow run's poll waits for round 1's; round 3 skips it.
    scheduler.tick();
    scheduler.tick();
    fast.transport.release();
    await until(() => overruns.length === 1, "round 3 to report");
    expect(overruns).toEqual([{ skipped: ["slow"], runs: 1 }]);
    expect(scheduler.stats()).toMatchObject({ rounds: 3, overruns: 1, skipped: 1 });
    slow.transport.release();
    fast.transport.release();
    await scheduler.stop();
  });

  it("names the config key when the cron expression is wrong", () => {
    const { monitor } = setup();
    expect(
      () =>
        new PollScheduler({ expression: "every 30 s", monitors: [monitor], onPolled: () => {} }),
    ).toThrow(ScheduleError);
    expect(
      () =>
        new PollScheduler({ expression: "every 30 s", monitors: [monitor], onPolled: () => {} }),
    ).toThrow(/poll: 'every 30 s' is neither a duration nor a cron expression/);
  });

  it("takes a duration as well as cron: polls every so long from start", async () => {
    const { transport, monitor } = setup();
    const polled: number[] = [];
    const scheduler = new PollScheduler({
      expression: "50ms",
      monitors: [monitor],
      onPolled: () => {
        polled.push(transport.calls);
      },
    });
    scheduler.start();
    // Each interval tick starts a poll; release each so the next one is not skipped.
    const released = new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        transport.release();
        if (polled.length >= 3) {
          clearInterval(timer);
          resolve();
        }
      }, 10);
    });
    await released;
    await scheduler.stop();
    expect(polled.length).toBeGreaterThanOrEqual(3);
  });
});
