import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAlerting } from "../../src/alerts/create-alerting.ts";
import { buildStatusMessage } from "../../src/bot/core/status-message.ts";
import { transportLogTail } from "../../src/bot/core/transport-log-tail.ts";
import { parseConfig } from "../../src/config/load-config.ts";
import type { RunConfig } from "../../src/config/schema.ts";
import { systemClock } from "../../src/core/clock.ts";
import { createRunMetrics } from "../../src/daemon/run-metrics.ts";
import { readRunStatus } from "../../src/monitors/run-status.ts";
import { createMonitorStore } from "../../src/store/monitor-store.ts";
import { remotesOver } from "../../src/transport/run-remote.ts";
import { MemorySink } from "../alerts/alert-fixture.ts";
import { runTrainops } from "../harness/cli.ts";
import { waitUntil } from "../harness/wait.ts";
import { text } from "./slurm-alert-run.ts";
import { type SlurmFixture, startSlurmFixture } from "./slurm-fixture.ts";

let fx: SlurmFixture;

beforeAll(async () => {
  fx = await startSlurmFixture({ prefix: "trainops-slurm-status-" });
}, 60_000);

afterAll(async () => {
  await fx?.stop();
});

describe("a Slurm run watched from the login node over SSH", () => {
  it("shows the queue while pending, then nodes, per-node GPUs and steps from the job's StdOut; a requeue is told", async () => {
    const blocker = await fx.block();
    await waitUntil(async () => (await fx.cluster.jobState(blocker)) === "RUNNING", {
      what: "the blocking job to run",
    });
    const jobId = await fx.submit();
    const path = fx.sim.writeConfig({
      store: `${fx.sim.root}/store.db`,
      runs: [fx.runEntry()],
      alerts: { console: false, groupWindow: "0s", rules: { pending_long: { after: "1s" } } },
    });
    const config = parseConfig(readFileSync(path, "utf8"));
    const { monitor, db, transport } = fx.sim.attach(config);
    const store = createMonitorStore(db);
    const sink = new MemorySink();
    const alerting = createAlerting({ db, config, clock: systemClock, sinks: [sink] });
    const cycle = async () => {
      const report = await monitor.pollOnce();
      alerting.evaluate("exp001");
      await alerting.deliverDue();
      return report;
    };

    // The scheduler names a reason on its first pass over the new job.
    let pending = await monitor.pollOnce();
    await waitUntil(
      async () => {
        pending = await monitor.pollOnce();
        return readRunStatus(store, "exp001").slurm?.reason != null;
      },
      { intervalMs: 300, what: "a pending reason" },
    );
    alerting.evaluate("exp001");
    await alerting.deliverDue();
    expect(pending.outcome).toBe("ok");
    expect(pending.message).toBeNull();
    const waiting = readRunStatus(store, "exp001").slurm;
    expect(waiting).toMatchObject({
      jobId: String(jobId),
      state: "PENDING",
      nodes: [],
      timeLimitSeconds: null,
      restarts: 0,
    });
    expect(waiting?.reason).toMatch(/^(Resources|Priority)$/);
    expect(pending.sample.alive).toBe(false);
    expect(sink.messages[0]?.title).toMatch(
      new RegExp(`^exp001: Slurm job ${jobId} pending for \\d+ s: (Resources|Priority)$`),
    );
    const pendingMessage = buildStatusMessage({
      run: config.runs[0] as RunConfig,
      sample: pending.sample,
      lastReachable: pending.sample,
      plan: null,
      planNote: null,
      lastError: null,
      firing: null,
      silences: null,
      chart: null,
      now: Date.now(),
      slurm: waiting ?? null,
    });
    expect(pendingMessage.lines?.[0]).toMatch(
      new RegExp(`^Slurm job ${jobId}: pending \\d+ s: (Resources|Priority)$`),
    );

    await fx.cluster.exec("scancel", [String(blocker)]);
    await waitUntil(
      async () => {
        const report = await cycle();
        // The job's first line may be step 0: wait for progress, not only for a first line.
        return (report.sample.step ?? 0) > 0 && report.sample.gpus.length === 2;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: "steps and GPUs of the running job" },
    );
    const status = readRunStatus(store, "exp001");
    expect(status.slurm).toMatchObject({
      jobId: String(jobId),
      state: "RUNNING",
      reason: null,
      nodes: ["n1", "n2"],
      gpusPerNode: { n1: 2, n2: 2 },
      restarts: 0,
      jobIds: [String(jobId)],
    });
    expect(status.alive).toBe(true);
    // The fake nvidia-smi shows one GPU per call; each node's srun task ran it once.
    expect(status.gpus.map((g) => `${g.node}/GPU${g.index}`)).toEqual(["n1/GPU0", "n2/GPU0"]);
    expect(status.step).toBeGreaterThan(0);

    const metrics = await createRunMetrics({
      runs: () => ["exp001"],
      latest: (run) => store.samples.latest(run),
      lastReachableAt: (run) => store.samples.latestReachable(run)?.at ?? null,
      firing: () => [],
      rules: () => [],
      phase: () => null,
      node: () => "login",
      outboxDepth: () => new Map(),
    }).registry.metrics();
    // Each node's GPU carries its node, which is also its Hostname for a DCGM join.
    for (const node of ["n1", "n2"]) {
      const line = metrics
        .split("\n")
        .find(
          (l) => l.startsWith("trainops_gpu_memory_used_bytes{") && l.includes(`node="${node}"`),
        );
      expect(line).toContain(`Hostname="${node}"`);
      expect(line).toMatch(/ \d+$/);
    }

    const cli = await runTrainops(["status", "--json", "--config", path]);
    expect(cli.code, cli.stderr).toBe(0);
    const printed = JSON.parse(cli.stdout).runs[0];
    expect(printed.slurm).toMatchObject({
      jobId: String(jobId),
      state: "RUNNING",
      nodes: ["n1", "n2"],
      timeLimitSeconds: null,
      restarts: 0,
    });
    expect(typeof printed.slurm.elapsedSeconds).toBe("number");
    expect(printed.gpus.map((g: { node: string }) => g.node)).toEqual(["n1", "n2"]);

    const check = await runTrainops(["check", "--json", "--config", path]);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(
      JSON.parse(check.stdout).results.map((r: { check: string; detail: string }) => [
        r.check,
        r.detail,
      ]),
    ).toEqual([
      ["connection", expect.any(String)],
      ["log", expect.stringMatching(new RegExp(`exp001-${jobId}\\.out \\(\\d+ bytes\\)$`))],
      ["train-config", expect.any(String)],
      ["slurm", `job ${jobId} found; GPUs are read on its nodes through srun`],
    ]);

    // `/train logs` reads the job's StdOut, found through scontrol on the login node.
    const tail = await transportLogTail(
      config.runs,
      remotesOver(() => transport, systemClock),
    ).tail("exp001", 3);
    expect(tail.trim().split("\n")).toHaveLength(3);
    expect(tail).toMatch(/^[01]: /m);

    // Slurm requeues it (as after a node failure): told once, and not as an end.
    await fx.cluster.exec("scontrol", ["requeue", String(jobId)]);
    await waitUntil(
      async () => {
        await cycle();
        return sink.messages.some((m) => /was requeued/.test(m.title));
      },
      { timeoutMs: 60_000, intervalMs: 500, what: "the requeued alert" },
    );
    const requeued = sink.messages.find((m) => /was requeued/.test(m.title));
    // It may go out grouped with pending_long: the requeued job waits in the queue again.
    expect(requeued?.title).toContain(`Slurm job ${jobId} was requeued (1 time)`);
    expect(requeued && text(requeued)).toContain("last checkpoint");
    expect(sink.messages.filter((m) => /job_ended|crashed/.test(text(m)))).toEqual([]);
    expect(readRunStatus(store, "exp001").slurm?.restarts).toBe(1);
  }, 180_000);
});
