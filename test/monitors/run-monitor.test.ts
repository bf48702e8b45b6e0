import { appendFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type RunConfig, runSchema } from "../../src/config/schema.ts";
import { ManualClock } from "../../src/core/clock.ts";
import type { ClassifiedEvent } from "../../src/model/monitoring.ts";
import { RunMonitor } from "../../src/monitors/run-monitor.ts";
import { readRunStatus } from "../../src/monitors/run-status.ts";
import { openDatabase } from "../../src/store/database.ts";
import { createMonitorStore, type MonitorStore } from "../../src/store/monitor-store.ts";
import { SshTransport } from "../../src/transport/ssh-transport.ts";
import { OOM_TRACEBACK, stepLine } from "../harness/fake-run-dir.ts";
import { useSshdRunDirs } from "../harness/sshd-run-dirs.ts";
import { waitUntil } from "../harness/wait.ts";

const vm = useSshdRunDirs("trainops-monitor-");

interface Fixture {
  run: RunConfig;
  store: MonitorStore;
  monitor: RunMonitor;
  transport: SshTransport;
  logPath: string;
  clock: ManualClock;
  followed: ClassifiedEvent[];
  /** Writes a first step line, polls once (the attach) and opens the follow stream. */
  startFollowing(): Promise<void>;
  /** Waits until the follow stream has reported `n` events. */
  untilFollowed(n: number): Promise<boolean>;
}

let counter = 0;
function fixture(overrides: Record<string, unknown> = {}): Fixture {
  counter += 1;
  const { run, workdir, logPath } = vm.runDir(`run${counter}`, {
    name: `exp${counter}`,
    log: "logs/train.log",
    steps: { perEpoch: 4000, epochs: 32 },
    backfillBytes: 4096,
    ...overrides,
  });
  const store = createMonitorStore(openDatabase(join(workdir, "trainops.db")));
  const transport = new SshTransport(run.ssh);
  const clock = new ManualClock();
  const followed: ClassifiedEvent[] = [];
  const monitor = new RunMonitor({
    run,
    transport,
    store,
    clock,
    onFollowEvents: (_run, events) => followed.push(...events),
  });
  return {
    run,
    store,
    monitor,
    transport,
    logPath,
    clock,
    followed,
    async startFollowing() {
      writeFileSync(logPath, `${stepLine(1)}\n`);
      await monitor.pollOnce();
      // The stream starts at the stored offset: lines appended from now on reach it however
      // soon they come.
      await monitor.startFollow();
    },
    untilFollowed: (n) =>
      waitUntil(() => followed.length >= n, {
        timeoutMs: 5000,
        intervalMs: 20,
        what: `${n} events from the follow stream`,
      }),
  };
}

describe("RunMonitor over a real sshd", () => {
  it("attaches to a big log by reading only a bounded tail", async () => {
    const f = fixture();
    const lines: string[] = [];
    for (let step = 1; step <= 60_000; step += 1) lines.push(stepLine(step, 128_000));
    writeFileSync(f.logPath, `${lines.join("\n")}\n`);
    const report = await f.monitor.pollOnce();
    expect(report.outcome).toBe("ok");
    expect(report.sample.step).toBe(60_000);
    expect(report.sample.totalSteps).toBe(128_000);
    const offset = f.store.offsets.get(f.run.name);
    // Only the backfill window was parsed, not the 5 MB before it.
    expect(offset?.lineCount).toBeLessThan(60);
    expect(offset?.offset).toBeGreaterThan(5_000_000);
    await f.transport.close();
  });

  it("reads appended bytes once, keeps a partial line for the next poll", async () => {
    const f = fixture();
    writeFileSync(f.logPath, `${stepLine(1)}\n${stepLine(2)}\n`);
    await f.monitor.pollOnce();
    appendFileSync(
      f.logPath,
      `${stepLine(3)}\n2026-11-28 10:00:00,000 - __main__ - INFO - Train st`,
    );
    f.clock.advance(30_000);
    const second = await f.monitor.pollOnce();
    expect(second.sample.step).toBe(3);
    expect(f.store.offsets.get(f.run.name)?.partial.toString()).toContain("Train st");
    appendFileSync(f.logPath, "ep 4/4000 loss=0.4\n");
    f.clock.advance(30_000);
    const third = await f.monitor.pollOnce();
    expect(third.sample.step).toBe(4);
    expect(f.store.offsets.get(f.run.name)?.lineCount).toBe(4);
    // A poll with nothing new changes nothing.
    f.clock.advance(30_000);
    await f.monitor.pollOnce();
    expect(f.store.offsets.get(f.run.name)?.lineCount).toBe(4);
    await f.transport.close();
  });

  it("classifies an OOM traceback as one event, and never twice", async () => {
    const f = fixture();
    writeFileSync(f.logPath, `${stepLine(10)}\n`);
    await f.monitor.pollOnce();
    appendFileSync(f.logPath, `${OOM_TRACEBACK.join("\n")}\n`);
    const report = await f.monitor.pollOnce();
    await f.monitor.pollOnce();
    const events = f.store.events.recent(f.run.name, 10);
    expect(events.map((e) => e.kind)).toEqual(["cuda_oom"]);
    expect(events[0]?.line).toContain("CUDA out of memory");
    expect(report.events.length + (await f.monitor.pollOnce()).events.length).toBe(1);
    await f.transport.close();
  });

  it("follows rotation and truncation without double counting", async () => {
    const f = fixture();
    writeFileSync(f.logPath, `${stepLine(1)}\n${stepLine(2)}\n`);
    await f.monitor.pollOnce();
    renameSync(f.logPath, `${f.logPath}.1`);
    writeFileSync(f.logPath, `${stepLine(3)}\n`);
    const rotated = await f.monitor.pollOnce();
    expect(rotated.sample.step).toBe(3);
    expect(f.store.offsets.get(f.run.name)?.offset).toBe(stepLine(3).length + 1);
    // Rewritten in place to the same size: the checksum of the first bytes tells, at once.
    writeFileSync(f.logPath, `${stepLine(1)}\n`);
    const reread = await f.monitor.pollOnce();
    expect(reread.sample.step).toBe(1);
    expect(f.store.offsets.get(f.run.name)?.lineCount).toBe(1);
    await f.transport.close();
  });

  it("survives CRLF, carriage-return progress, invalid UTF-8 and a megabyte line", async () => {
    const f = fixture();
    const bad = Buffer.from([0xff, 0xfe, 0x0a]);
    writeFileSync(
      f.logPath,
      Buffer.concat([
        Buffer.from(`${stepLine(5)}\r\n`),
        bad,
        Buffer.from(`${"x".repeat(1_200_000)}\n`),
        Buffer.from(`${stepLine(6)}\r${stepLine(7)}\n`),
      ]),
    );
    const report = await f.monitor.pollOnce();
    expect(report.outcome).toBe("ok");
    expect(report.sample.step).toBe(7);
    expect(f.store.events.recent(f.run.name)).toEqual([]);
    await f.transport.close();
  });

  it("reports GPU figures, host memory, disk and a dead process", async () => {
    const f = fixture({ process: "no-such-training-process" });
    writeFileSync(f.logPath, `${stepLine(1)}\n`);
    const report = await f.monitor.pollOnce();
    expect(report.sample.gpus).toEqual([
      {
        index: 0,
        name: "NVIDIA A100-SXM4-80GB",
        memoryUsedMiB: 78822,
        memoryTotalMiB: 81920,
        utilizationPercent: 7,
        temperatureC: 36,
        powerW: 83.1,
      },
    ]);
    expect(report.sample.hostMemory?.totalBytes).toBeGreaterThan(0);
    expect(report.sample.diskFreeBytes).toBeGreaterThan(0);
    expect(report.sample.alive).toBe(false);
    const status = readRunStatus(f.store, f.run.name);
    expect(status.reachable).toBe(true);
    expect(status.gpus[0]?.memoryUsedMiB).toBe(78822);
    await f.transport.close();
  });

  it("records an unreachable VM without losing the last known progress", async () => {
    const f = fixture();
    writeFileSync(f.logPath, `${stepLine(42)}\n`);
    await f.monitor.pollOnce();
    const dead = runSchema.parse({
      ...f.run,
      ssh: { ...vm.sshd.runConfigSsh(), port: 1, connectTimeout: "2s" },
    });
    if (dead.ssh === "local") throw new Error("unexpected");
    const transport = new SshTransport(dead.ssh);
    const monitor = new RunMonitor({ run: dead, transport, store: f.store, clock: f.clock });
    f.clock.advance(30_000);
    const report = await monitor.pollOnce();
    expect(report.outcome).toBe("unreachable");
    expect(report.sample.reachable).toBe(false);
    const status = readRunStatus(f.store, f.run.name);
    expect(status.reachable).toBe(false);
    expect(status.step).toBe(42);
    await transport.close();
    await f.transport.close();
  });

  it("streams an OOM between polls and the next poll does not count it again", async () => {
    const f = fixture();
    await f.startFollowing();
    appendFileSync(f.logPath, `${OOM_TRACEBACK.join("\n")}\n`);
    await f.untilFollowed(1);
    expect(f.followed.map((e) => e.kind)).toEqual(["cuda_oom"]);
    const report = await f.monitor.pollOnce();
    expect(report.events).toEqual([]);
    expect(f.store.events.recent(f.run.name).length).toBe(1);
    await f.monitor.stopFollow();
    await f.transport.close();
  });

  it("streams an OOM at its exception line; the chained traceback after it updates that event", async () => {
    const f = fixture();
    await f.startFollowing();
    appendFileSync(f.logPath, `${OOM_TRACEBACK.join("\n")}\n`);
    await f.untilFollowed(1);
    expect(f.followed.map((e) => e.kind)).toEqual(["cuda_oom"]);
    const [stored] = f.store.events.recent(f.run.name);
    // The chained exception arrives after the event went out: it finishes the same failure.
    appendFileSync(
      f.logPath,
      [
        "",
        "The above exception was the direct cause of the following exception:",
        "",
        "Traceback (most recent call last):",
        '  File "train.py", line 300, in <module>',
        "RuntimeError: CUDA error: out of memory while saving the emergency checkpoint",
        stepLine(2),
        stepLine(3),
        stepLine(4),
        "",
      ].join("\n"),
    );
    // Barrier: the poll reads everything the follow stream may not have delivered yet.
    const report = await f.monitor.pollOnce();
    expect(report.sample.step).toBe(4);
    expect(report.events).toEqual([]);
    expect(f.followed.map((e) => e.kind)).toEqual(["cuda_oom"]);
    const events = f.store.events.recent(f.run.name);
    expect(events).toHaveLength(1);
    expect(events[0]?.id).toBe(stored?.id);
    expect(events[0]?.kind).toBe("cuda_oom");
    await f.monitor.stopFollow();
    await f.transport.close();
  });

  it("streams a CUDA OOM that follows an NCCL timeout: the stored event changes kind at once", async () => {
    const f = fixture();
    await f.startFollowing();
    appendFileSync(
      f.logPath,
      `[Rank 0] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=1580, OpType=ALLREDUCE, NumelIn=1, NumelOut=1, Timeout(ms)=600000) ran for 600046 milliseconds before timing out.\n${stepLine(2)}\n`,
    );
    await f.untilFollowed(1);
    expect(f.followed.map((e) => e.kind)).toEqual(["nccl_timeout"]);
    const [stored] = f.store.events.recent(f.run.name);
    appendFileSync(f.logPath, `${OOM_TRACEBACK.join("\n")}\n`);
    // No poll runs: the follow stream alone reports the change.
    await f.untilFollowed(2);
    expect(f.followed.map((e) => e.kind)).toEqual(["nccl_timeout", "cuda_oom"]);
    const events = f.store.events.recent(f.run.name);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ id: stored?.id, kind: "cuda_oom" });
    await f.monitor.stopFollow();
    await f.transport.close();
  });
});
