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

  async follow(): Promise<FollowHandle> {
    return { stop: async () => {} };
  }

  async close(): Promise<void> {}
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), "trainops-sched-"));
  dirs.push(dir);
  const store = createMonitorStore(openDatabase(join(dir, "db.sqlite")));
  const transport = new GatedTransport();
  const run = runSchema.parse({ name: "exp001", ssh: "local", workdir: dir, log: "train.log" });
  const monitor = new RunMonitor({ run, transport, store, clock: new ManualClock() });
  return { store, transport, monitor };
}

describe("PollScheduler", () => {
  it("never overlaps polls of one run, records each skip, and reports the poll when it ends", async () => {
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
    transport.release();
    await scheduler.stop();
    expect(reports.map((r) => r.outcome)).toEqual(["unreachable"]);
    expect(store.polls.skippedSince("exp001", 0)).toBe(2);
    // Once the slow poll is over, the next tick polls again.
    scheduler.tick();
    expect(transport.calls).toBe(2);
    transport.release();
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
